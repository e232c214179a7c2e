"""Catalog writes called directly: versions, events, audit trail and the errors they raise."""
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from catalog import constants, services
from catalog.models import Product, Reservation, ReservationLine, Stock, StockAdjustment
from catalog.pagecache import RenderedPages
from shopkit import events
from shopkit.messaging.handling import EventRefused
from shopkit.problems import ApplicationError, Conflict, NotFound
from shopkit.testing import outbox_events

pytestmark = pytest.mark.django_db


def test_every_change_is_one_version_and_one_event_in_order(make_product):
    product = make_product(price="5.00")
    services.product_update(product_id=product.id, changes={"price": Decimal("6.00")})
    services.product_update(product_id=product.id, changes={"active": False})
    services.product_delete(product_id=product.id)
    assert [(e["type"], e["data"]["version"]) for e in outbox_events()] == [
        (events.PRODUCT_CREATED, 1), (events.PRODUCT_UPDATED, 2), (events.PRODUCT_UPDATED, 3),
        (events.PRODUCT_DELETED, 4)]
    assert outbox_events(events.PRODUCT_UPDATED)[-1]["data"]["active"] is False


def test_a_deleted_product_can_be_neither_changed_nor_deleted_again(make_product):
    product = make_product()
    services.product_delete(product_id=product.id)
    with pytest.raises(NotFound):
        services.product_update(product_id=product.id, changes={"name": "Back"})
    with pytest.raises(NotFound):
        services.product_delete(product_id=product.id)
    assert len(outbox_events(events.PRODUCT_DELETED)) == 1


def test_a_deleted_products_sku_stays_taken(make_product):
    product = make_product(sku="OLD-1")
    services.product_delete(product_id=product.id)
    with pytest.raises(Conflict):
        make_product(sku="OLD-1")


def test_only_editable_fields_can_be_changed(make_product):
    product = make_product()
    with pytest.raises(ValueError):
        services.product_update(product_id=product.id, changes={"version": 7})
    assert Product.objects.get(pk=product.pk).version == 1


def test_adjustments_are_audited_with_the_level_they_left(make_product):
    product = make_product(stock=2)
    services.stock_adjust(product_id=product.id, delta=5, reason="delivery", actor_id="u1", actor_email="a@b.c")
    services.stock_adjust(product_id=product.id, delta=-7, reason="flood", actor_id="u1", actor_email="a@b.c")
    trail = list(StockAdjustment.objects.filter(product=product).order_by("id")
                 .values_list("delta", "on_hand_after", "reason"))
    assert trail == [(2, 2, "initial stock"), (5, 7, "delivery"), (-7, 0, "flood")]
    with pytest.raises(Conflict):
        services.stock_adjust(product_id=product.id, delta=-1, reason="below zero")
    with pytest.raises(ApplicationError):
        services.stock_adjust(product_id=product.id, delta=0, reason="nothing")
    assert not outbox_events(events.STOCK_RESERVED)  # adjustments are no saga events



def test_a_reservation_comes_back_as_the_row_written_with_a_line_per_product(make_product):
    a, b, c = make_product(stock=9), make_product(stock=9), make_product(stock=9)
    reservation = services.reservation_create(
        order_id="o-1", items=[(str(a.id), 1), (str(b.id), 2), (str(c.id), 3), (str(a.id).upper(), 3)])
    stored = Reservation.objects.get(order_id="o-1")
    assert (reservation.pk, reservation.state, reservation.created_at, reservation.updated_at) == (
        stored.pk, constants.RESERVATION_RESERVED, stored.created_at, stored.updated_at)
    assert not reservation._state.adding  # a saved row: a later step's save() updates it
    assert sorted(ReservationLine.objects.filter(reservation=stored).values_list("product_id", "quantity")) == \
        sorted([(a.id, 4), (b.id, 2), (c.id, 3)])


def test_one_stock_update_gives_each_row_its_own_level_and_one_revision_more(make_product):
    a, b, c, untouched = (make_product(stock=9) for _ in range(4))
    before = {stock.pk: stock.revision for stock in Stock.objects.all()}
    services.reservation_create(order_id="o-1", items=[(str(a.id), 1), (str(b.id), 2), (str(c.id), 3)])
    after = {stock.pk: (stock.on_hand, stock.reserved, stock.revision) for stock in Stock.objects.all()}
    assert after == {a.id: (9, 1, before[a.id] + 1), b.id: (9, 2, before[b.id] + 1),
                     c.id: (9, 3, before[c.id] + 1), untouched.id: (9, 0, before[untouched.id])}
    services.reservation_commit(order_id="o-1")  # two fields in one UPDATE
    assert Stock.objects.get(pk=c.id).on_hand == 6 and Stock.objects.get(pk=c.id).reserved == 0


def test_a_second_insert_of_an_orders_reservation_writes_nothing():
    with transaction.atomic():
        first = services._reservation_insert("o-1", constants.RESERVATION_RESERVED, timezone.now())
        assert services._reservation_insert("o-1", constants.RESERVATION_RELEASED, timezone.now()) is None
    assert list(Reservation.objects.values_list("pk", "state")) == [(first.pk, constants.RESERVATION_RESERVED)]


def test_an_order_id_longer_than_its_column_is_refused_and_changes_nothing(make_product):
    product = make_product(stock=5)
    longest = Reservation._meta.get_field("order_id").max_length
    for order_id in ("x" * (longest + 1), "y" * (longest + 1)):  # the same once cut to the column's length
        with pytest.raises(EventRefused), transaction.atomic():  # the consumer's transaction: rolled back
            services.reservation_create(order_id=order_id, items=[(str(product.id), 1)])
    assert not Reservation.objects.exists() and Stock.objects.get(pk=product.pk).reserved == 0
    services.reservation_create(order_id="z" * longest, items=[(str(product.id), 1)])
    assert Reservation.objects.get().order_id == "z" * longest

def test_rendered_pages_keep_only_the_most_recently_used():
    pages = RenderedPages(size=2)
    pages.put(("a",), b"A")
    pages.put(("b",), b"B")
    assert pages.get(("a",)) == b"A"
    pages.put(("c",), b"C")
    assert pages.get(("b",)) is None and pages.get(("a",)) == b"A" and pages.get(("c",)) == b"C"
