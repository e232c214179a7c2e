"""Fixtures of the order service's tests: shopkit's broker vhost, test tokens and worker runner."""
pytest_plugins = ["shopkit.pytest_plugin"]
