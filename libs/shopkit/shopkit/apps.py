"""shopkit as a Django app: registers its OpenAPI extension when Django starts."""
from django.apps import AppConfig


class ShopkitConfig(AppConfig):
    name = "shopkit"
    label = "shopkit"

    def ready(self):
        from shopkit import openapi  # noqa: F401 - registers the bearer-JWT scheme with drf-spectacular
