"""The orders Django app."""
from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from orders.metrics import orders_by_status
        from shopkit.metrics import register_scrape_collector

        register_scrape_collector("orders", orders_by_status)
