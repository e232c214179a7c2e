"""`up.py`'s options and the order of the launcher's steps: install, render, prepare, run (or stop: `--down`)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from . import processes
from .config import REPO, VENV, Config, SetupError
from .databases import prepare_databases
from .gateway import check_gateway_config, nginx_binary, spa_root, write_gateway
from .monitoring import enable_rabbitmq_plugins, nginx_exporter_binary, prometheus_binary, write_prometheus_config
from .install import ensure_frontend, ensure_gateway_assets, ensure_virtualenv, install_system_packages
from .progress import Progress
from .rabbitmq import ensure_rabbitmq, ensure_service_users
from .run import Launcher, check_ports_free, clear_leftovers, down
from .supervisor import programs, render_supervisor
from .tls import ensure_certificate

USAGE = """\
    python3 deploy/local/up.py                # install, prepare, run (foreground; Ctrl-C stops)
    python3 deploy/local/up.py --no-install   # skip apt, pip and npm (tests, CI, offline)
    python3 deploy/local/up.py --render-only  # write and check the nginx and supervisor configs, then exit
    python3 deploy/local/up.py --install-only # only install what is missing (CI, before the e2e suite)
    python3 deploy/local/up.py --down         # stop the shop of this SHOP_DATA_DIR (`make down`)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="`make up`: install what is missing, prepare the databases, and "
                                                 "run the whole shop under supervisord until Ctrl-C.",
                                     epilog=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-install", action="store_true", help="skip apt-get, pip and npm")
    parser.add_argument("--render-only", action="store_true", help="write and check the configs, then exit")
    parser.add_argument("--install-only", action="store_true",
                        help="install what is missing (apt, pip, npm, frontend build), then exit: for CI")
    parser.add_argument("--down", action="store_true",
                        help="stop the shop running with this SHOP_DATA_DIR (from another terminal), then exit")
    args = parser.parse_args(argv)
    progress = Progress()

    def interrupt(signum, frame):  # before supervisord runs, SIGTERM or a hang-up stops the setup like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    cfg = None
    try:
        cfg = Config.from_env()
        if args.down:
            return down(cfg)
        print(f"Shop in {REPO} — data in {cfg.data_dir}", flush=True)
        if not args.install_only:
            cfg.check_exposure()
            clear_leftovers(cfg, progress)
            processes.write_record(cfg.pid_dir / f"{processes.LAUNCHER}.pid", os.getpid(), sys.argv)
        if not args.no_install:
            install_system_packages(progress)
            ensure_virtualenv(progress)
            ensure_frontend(progress)
            ensure_gateway_assets(progress)
        if args.install_only:
            return 0
        if not nginx_binary():
            raise SetupError("nginx is not installed (run without --no-install, or apt-get install nginx)")
        if not (prometheus_binary() and nginx_exporter_binary()):
            raise SetupError("Prometheus or its nginx exporter is not installed (run without --no-install, or "
                             "apt-get install prometheus prometheus-nginx-exporter)")
        for tool in ("supervisord", "supervisorctl", "gunicorn"):
            if not (VENV / "bin" / tool).exists():
                raise SetupError(f"{VENV}/bin/{tool} is missing (run without --no-install)")
        for folder in (cfg.log_dir, cfg.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        cert, key = ensure_certificate(cfg, progress)
        table = programs(cfg)
        with progress.step("Rendering the gateway and supervisor configuration"):
            write_gateway(cfg, cert, key)
            check_gateway_config(cfg)
            render_supervisor(cfg, table)
            prometheus_conf = write_prometheus_config(cfg)
            progress.note(f"{cfg.gateway_dir / 'nginx.conf'}, {cfg.supervisor_conf}, {prometheus_conf}")
            if spa_root() != REPO / "frontend" / "dist":
                progress.note("frontend/dist is missing: / shows a placeholder page")
        if args.render_only:
            return 0
        check_ports_free(cfg, table)
        # the broker and the databases are independent: get both ready at once
        with ThreadPoolExecutor(max_workers=1) as pool:
            broker = pool.submit(prepare_broker, cfg, progress)
            prepare_databases(cfg, progress, broker)
            broker.result()
        return Launcher(cfg, table, progress).run()
    except SetupError as exc:
        print(f"\n✗ {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\n▸ Interrupted; nothing was started.", flush=True)
        return 130
    finally:
        if cfg is not None and not args.down:
            _forget_launcher(cfg)


def prepare_broker(cfg: Config, progress: Progress) -> None:
    """The broker running with its vhost, its plugins, then the services' users (a consuming service's preparation
    waits for them: it declares its queues as its own user). The plugins come before the users: the management
    API is how the users get in where rabbitmqctl cannot be used, and a fresh node has no plugin."""
    ensure_rabbitmq(cfg, progress)
    enable_rabbitmq_plugins(cfg, progress)
    ensure_service_users(cfg, progress)


def _forget_launcher(cfg: Config) -> None:
    path = cfg.pid_dir / f"{processes.LAUNCHER}.pid"
    record = processes.read_record(path)
    if record and record["pid"] == os.getpid():
        path.unlink(missing_ok=True)
