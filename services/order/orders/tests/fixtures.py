"""Fixtures of the orders tests: replica products, customers and placed orders."""
import uuid
from decimal import Decimal

import pytest

from orders import services
from orders.models import ProductReplica
from orders.tests.builders import ADDRESS


@pytest.fixture
def make_replica(db):
    """A product as the replica knows it after a product.created (active, EUR, version 1 unless told)."""
    def make(*, price="10.00", currency="EUR", active=True, version=1, **fields):
        product_id = fields.pop("product_id", str(uuid.uuid4()))
        return ProductReplica.objects.create(
            product_id=product_id, sku=fields.pop("sku", f"SKU-{product_id[:6]}"),
            name=fields.pop("name", f"Product {product_id[:6]}"), price=Decimal(price), currency=currency,
            active=active, version=version, **fields)
    return make


@pytest.fixture
def customer():
    return services.Customer(id=str(uuid.uuid4()), email="ada@example.com", name="Ada Lovelace")


@pytest.fixture
def place(make_replica, customer):
    """Place an order through the service (a fresh product unless given); returns the order."""
    def place_order(*, who=None, lines=None, **kwargs):
        if lines is None:
            lines = [{"product_id": make_replica().product_id, "quantity": 1}]
        order, _ = services.order_place(customer=who or customer, items=lines, shipping_address=ADDRESS, **kwargs)
        return order
    return place_order

