"""Identity's tests use shopkit's fixtures (test tokens, broker vhost) and their own (accounts/tests/fixtures.py)."""
pytest_plugins = ["shopkit.pytest_plugin", "accounts.tests.fixtures"]
