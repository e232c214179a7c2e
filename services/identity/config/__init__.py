"""Django project configuration of the identity service."""
