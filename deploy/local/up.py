"""`make up`: install what is missing, prepare the databases, and run the whole shop under supervisord until Ctrl-C.

Standard library only, so it runs on a fresh machine before the virtualenv exists (`python3 deploy/local/up.py`).
Every setting comes from the environment (DESIGN.md §7, deploy/README.md); the processes follow from
deploy/topology.toml. The e2e suite starts a second, independent shop with another SHOP_DATA_DIR, other ports and
its own RabbitMQ vhost. The work is done by the package beside this file (deploy/local/launcher/).

    python3 deploy/local/up.py                # install, prepare, run (foreground; Ctrl-C stops)
    python3 deploy/local/up.py --no-install   # skip apt, pip and npm (tests, CI, offline)
    python3 deploy/local/up.py --render-only  # write and check the nginx and supervisor configs, then exit
    python3 deploy/local/up.py --install-only # only install what is missing (CI, before the e2e suite)
    python3 deploy/local/up.py --down         # stop the shop of this SHOP_DATA_DIR (`make down`)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from launcher.cli import main  # noqa: E402  (the package sits beside this file)

if __name__ == "__main__":
    sys.exit(main())
