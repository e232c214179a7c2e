"""Fixtures of the product service's tests: a category, and products built through the service."""
import pytest


@pytest.fixture
def category(db):
    from catalog.models import Category

    return Category.objects.create(slug="coffee", name="Coffee")


@pytest.fixture
def make_product(db):
    """Build a product through the service (so it has its stock row and events), with ``stock`` on hand."""
    from decimal import Decimal

    from catalog import services

    counter = iter(range(1, 10_000))

    def make(*, stock: int = 10, price: str = "9.90", **fields):
        n = next(counter)
        fields.setdefault("sku", f"SKU-{n:04d}")
        fields.setdefault("name", f"Product {n}")
        return services.product_create(price=Decimal(price), initial_stock=stock, **fields)

    return make
