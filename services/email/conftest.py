"""The email service's tests use shopkit's fixtures (test tokens, broker vhost) and their own (mail/tests/fixtures.py)."""
pytest_plugins = ["shopkit.pytest_plugin", "mail.tests.fixtures"]
