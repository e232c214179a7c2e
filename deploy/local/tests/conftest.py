"""The launcher's tests: its package (deploy/local/launcher/) and deploy/topology.py are imported from the checkout."""
import sys
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[1]
for folder in (LOCAL, LOCAL.parent):  # deploy/local (the launcher package), deploy (topology.py)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
