"""The row locks' hand-written SELECTs read rows exactly as the ORM would, and lock stock in product-id order."""
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.locks import reservation_lock, stock_lock
from catalog.models import Reservation, Stock

pytestmark = pytest.mark.django_db


def as_orm_reads(instance):
    model = type(instance)
    return {field.attname: getattr(instance, field.attname) for field in model._meta.concrete_fields}


def test_locked_stock_rows_are_the_rows_the_orm_reads_with_whether_each_product_is_orderable(make_product):
    active, inactive, deleted = make_product(stock=4), make_product(stock=3, active=False), make_product(stock=2)
    services.product_delete(product_id=deleted.id)
    services.reservation_create(order_id="o-1", items=[(str(active.id), 1)])  # a row that changed since its insert
    ghost = uuid.uuid4()
    with transaction.atomic():
        locked = stock_lock([deleted.id, ghost, active.id, inactive.id, active.id], with_orderable=True)
    assert set(locked) == {active.id, inactive.id, deleted.id}  # an unknown product has no row
    for product_id, stock in locked.items():
        assert isinstance(product_id, uuid.UUID)
        assert as_orm_reads(stock) == as_orm_reads(Stock.objects.get(pk=product_id))
        assert stock.updated_at.tzinfo is not None
    assert {pid: stock.orderable for pid, stock in locked.items()} == {
        active.id: True, inactive.id: False, deleted.id: False}
    assert (locked[active.id].on_hand, locked[active.id].reserved) == (4, 1)
    assert not stock_lock([])


def test_stock_rows_are_locked_in_product_id_order_in_one_statement(make_product):
    products = [make_product() for _ in range(3)]
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked = stock_lock(reversed([product.id for product in products]))
    [statement] = captured.captured_queries
    # the database's primary-key order (MariaDB's uuid type sorts otherwise than Python's UUID)
    assert list(locked) == list(Stock.objects.order_by("pk").values_list("pk", flat=True))
    assert " ORDER BY " in statement["sql"]
    assert statement["sql"].rstrip().endswith(connection.ops.for_update_sql()) == \
        connection.features.has_select_for_update


def test_a_locked_reservation_is_the_row_the_orm_reads(make_product):
    product = make_product(stock=5)
    services.reservation_create(order_id="o-1", items=[(str(product.id), 2)])
    with transaction.atomic():
        locked = reservation_lock("o-1")
        assert reservation_lock("o-2") is None
    assert as_orm_reads(locked) == as_orm_reads(Reservation.objects.get(order_id="o-1"))
    assert not locked._state.adding  # a saved row: save() updates it
