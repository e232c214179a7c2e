"""Django project of the email service: settings, URLs and the WSGI entry point."""
