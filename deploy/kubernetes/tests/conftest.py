"""Fixtures of the manifest tests: the topology, and each overlay as `kubectl kustomize` renders it."""
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(DEPLOY))  # `topology` and the `kubernetes` package (deploy/kubernetes), as generate.py does
sys.path.insert(0, str(DEPLOY / "kubernetes"))  # validate.py

import topology  # noqa: E402
import validate  # noqa: E402

_RENDERED: dict[str, list[dict]] = {}


@pytest.fixture(scope="session")
def shop():
    return topology.load()


def rendered(overlay: str) -> list[dict]:
    if overlay not in _RENDERED:
        _RENDERED[overlay] = validate.render(overlay)
    return _RENDERED[overlay]


@pytest.fixture(params=validate.OVERLAYS)
def resources(request):
    """Every resource of one overlay (the test runs once per overlay)."""
    return rendered(request.param)
