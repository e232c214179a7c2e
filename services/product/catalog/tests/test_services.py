"""Catalog writes called directly: versions, events, audit trail and the errors they raise."""
from decimal import Decimal

import pytest

from catalog import services
from catalog.models import Product, StockAdjustment
from catalog.pagecache import RenderedPages
from shopkit import events
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


def test_rendered_pages_keep_only_the_most_recently_used():
    pages = RenderedPages(size=2)
    pages.put(("a",), b"A")
    pages.put(("b",), b"B")
    assert pages.get(("a",)) == b"A"
    pages.put(("c",), b"C")
    assert pages.get(("b",)) is None and pages.get(("a",)) == b"A" and pages.get(("c",)) == b"C"
