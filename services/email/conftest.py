"""Fixtures of the email service's tests: shopkit's, plus a real SMTP server (aiosmtpd) on a free port."""
pytest_plugins = ["shopkit.pytest_plugin", "mail.tests.fixtures"]
