"""Tests of deploy/containers/: deploy/ (topology.py, the containers package) and deploy/local (the launcher the
gateway image reuses) are imported from the checkout."""
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2]
for folder in (DEPLOY / "local", DEPLOY, DEPLOY / "containers"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
