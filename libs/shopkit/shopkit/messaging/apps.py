"""The Django app that owns the outbox and inbox tables and the messaging management commands."""
from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "shopkit.messaging"
    label = "shopkit_messaging"
    verbose_name = "shopkit messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from shopkit.metrics import outbox_backlog, register_scrape_collector

        register_scrape_collector("outbox", outbox_backlog)  # every service has an outbox: its lag at every scrape
