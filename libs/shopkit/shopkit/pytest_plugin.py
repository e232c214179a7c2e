"""Pytest fixtures for tests that need the real broker: a throwaway vhost, and the relay or consumer in a thread.

Enable with ``pytest_plugins = ["shopkit.pytest_plugin"]`` in a conftest.py.
"""
import subprocess
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from shopkit.settings import DEFAULT_RABBITMQ_URL
from shopkit.testing import running  # noqa: F401 - re-exported for conftest users


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def rabbitmq_url():
    """A vhost of this test session's own (so tests never touch a running shop's queues), removed afterwards."""
    import os

    base = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    vhost = f"shoptest-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    parts = urlsplit(base)
    _rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, ""))
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def broker(rabbitmq_url, settings):
    """Point this test's settings at the session's vhost; returns the URL."""
    settings.SHOPKIT_RABBITMQ_URL = rabbitmq_url
    return rabbitmq_url


@pytest.fixture(autouse=True)
def trust_test_tokens(settings):
    """Every test trusts tokens minted by ``shopkit.testing.make_token`` (and only those)."""
    from shopkit.testing import jwt_test_settings

    settings.SHOPKIT_JWT = jwt_test_settings()


__all__ = ["rabbitmq_url", "broker", "running"]
