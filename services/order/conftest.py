"""The order service's tests use shopkit's fixtures (test tokens, broker vhost) and their own (orders/tests/fixtures.py)."""
pytest_plugins = ["shopkit.pytest_plugin", "orders.tests.fixtures"]
