"""Django project of the product service: settings, URLs, WSGI entry point."""
