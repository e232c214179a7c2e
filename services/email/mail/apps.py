"""Django app configuration of the mail app (named `mail`, not `email`, to leave Python's email package alone)."""
from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "mail"
    default_auto_field = "django.db.models.BigAutoField"
