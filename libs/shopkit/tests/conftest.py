"""Fixtures of shopkit's own tests."""
pytest_plugins = ["shopkit.pytest_plugin"]
