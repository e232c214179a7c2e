"""The product service's tests use shopkit's fixtures (test tokens, broker vhost) and their own (catalog/tests/fixtures.py)."""
pytest_plugins = ["shopkit.pytest_plugin", "catalog.tests.fixtures"]
