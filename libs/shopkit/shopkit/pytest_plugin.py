"""Pytest fixtures for tests that need the real broker: a throwaway vhost, and the relay or consumer in a thread.

Enable with ``pytest_plugins = ["shopkit.pytest_plugin"]`` in a conftest.py.
"""
import pytest

from shopkit.testing import running, throwaway_vhost  # noqa: F401 - running is re-exported for conftest users


@pytest.fixture(scope="session")
def rabbitmq_url():
    """A vhost of this test session's own (so tests never touch a running shop's queues), removed afterwards."""
    with throwaway_vhost() as url:
        yield url


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
