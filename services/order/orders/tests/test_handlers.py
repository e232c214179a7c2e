"""Incoming events applied through the consumer's inbox: the product replica and the order side of the saga."""
import uuid
from decimal import Decimal

import pytest

from shopkit import events
from shopkit.envelope import build_event
from shopkit.messaging.consumer import apply_event
from shopkit.messaging.handling import EventRefused
from shopkit.testing import outbox_events

from orders import constants, services
from orders.handlers import HANDLERS
from orders.models import Order, OrderEmail, ProductReplica

pytestmark = pytest.mark.django_db


def deliver(event_type, data, subject=""):
    """Apply an event as the consumer would: its handler, in a transaction with the inbox record."""
    event = build_event(event_type, data, source="/shop/test", subject=subject)
    apply_event(event, HANDLERS[event_type])
    return event


def product_event(product_id, version, **changes):
    return {"product_id": product_id, "sku": "PEN-1", "name": "Fountain pen", "price": "12.50", "currency": "EUR",
            "active": True, "version": version, **changes}


# --- the product replica ------------------------------------------------------------------------------------------

def test_product_created_makes_the_product_orderable():
    deliver(events.PRODUCT_CREATED, product_event("p1", 1))

    replica = ProductReplica.objects.get(product_id="p1")
    assert (replica.sku, replica.name, replica.price, replica.currency, replica.version) == (
        "PEN-1", "Fountain pen", Decimal("12.50"), "EUR", 1)
    assert replica.orderable


def test_a_newer_update_replaces_the_replica():
    deliver(events.PRODUCT_CREATED, product_event("p1", 1))

    deliver(events.PRODUCT_UPDATED, product_event("p1", 2, price="14.00", active=False))

    replica = ProductReplica.objects.get(product_id="p1")
    assert (replica.price, replica.active, replica.version) == (Decimal("14.00"), False, 2)


def test_an_old_update_after_a_new_one_changes_nothing():
    deliver(events.PRODUCT_UPDATED, product_event("p1", 3, price="30.00", name="Newest"))

    deliver(events.PRODUCT_UPDATED, product_event("p1", 2, price="20.00", name="Older"))
    deliver(events.PRODUCT_CREATED, product_event("p1", 1, price="10.00", name="Oldest"))
    deliver(events.PRODUCT_UPDATED, product_event("p1", 3, price="99.00", name="Same version again"))

    replica = ProductReplica.objects.get(product_id="p1")
    assert (replica.name, replica.price, replica.version) == ("Newest", Decimal("30.00"), 3)


def test_a_deleted_product_stays_deleted_when_an_older_update_arrives_late():
    deliver(events.PRODUCT_CREATED, product_event("p1", 1))
    deliver(events.PRODUCT_DELETED, {"product_id": "p1", "version": 3})

    deliver(events.PRODUCT_UPDATED, product_event("p1", 2, active=True))

    replica = ProductReplica.objects.get(product_id="p1")
    assert replica.deleted and not replica.orderable and replica.version == 3


def test_a_delete_older_than_the_replica_changes_nothing():
    deliver(events.PRODUCT_UPDATED, product_event("p1", 4))

    deliver(events.PRODUCT_DELETED, {"product_id": "p1", "version": 2})

    assert ProductReplica.objects.get(product_id="p1").orderable


def test_a_delete_of_a_product_never_seen_leaves_a_tombstone():
    deliver(events.PRODUCT_DELETED, {"product_id": "p9", "version": 5})
    deliver(events.PRODUCT_CREATED, product_event("p9", 1))

    assert not ProductReplica.objects.get(product_id="p9").orderable


# --- the saga -----------------------------------------------------------------------------------------------------

def _reserved(order):
    return {"order_id": str(order.id),
            "items": [{"product_id": l.product_id, "quantity": l.quantity} for l in order.lines.all()]}


def _failed(order):
    return {"order_id": str(order.id),
            "shortages": [{"product_id": l.product_id, "requested": l.quantity, "available": 0}
                          for l in order.lines.all()]}


def test_stock_reserved_confirms_the_order_once_even_when_delivered_twice(place):
    order = place()
    event = build_event(events.STOCK_RESERVED, _reserved(order), source="/shop/product", subject=str(order.id))

    assert apply_event(event, HANDLERS[events.STOCK_RESERVED]) is True
    assert apply_event(event, HANDLERS[events.STOCK_RESERVED]) is False

    order.refresh_from_db()
    assert order.status == constants.CONFIRMED
    assert order.history.filter(status=constants.CONFIRMED).count() == 1
    assert len(outbox_events(events.ORDER_CONFIRMED)) == 1


def test_a_second_stock_reserved_event_for_a_confirmed_order_changes_nothing(place):
    order = place()
    deliver(events.STOCK_RESERVED, _reserved(order))

    deliver(events.STOCK_RESERVED, _reserved(order))

    assert order.history.count() == 2 and len(outbox_events(events.ORDER_CONFIRMED)) == 1


def test_stock_reservation_failed_rejects_the_order_with_the_shortages(place):
    order = place()

    deliver(events.STOCK_RESERVATION_FAILED, _failed(order))

    order.refresh_from_db()
    assert order.status == constants.REJECTED
    [rejected] = outbox_events(events.ORDER_REJECTED)
    assert rejected["data"]["shortages"] == _failed(order)["shortages"]
    assert rejected["data"]["reason"] == constants.REASON_OUT_OF_STOCK


def test_stock_reserved_after_a_cancel_does_not_confirm_the_order(place):
    # Product releases that reservation itself on order.cancelled (also when the cancel overtook it).
    order = place()
    services.order_cancel(order_id=order.id, by_staff=False)

    deliver(events.STOCK_RESERVED, _reserved(order))

    order.refresh_from_db()
    assert order.status == constants.CANCELLED
    assert not outbox_events(events.ORDER_CONFIRMED)
    assert list(order.history.values_list("status", flat=True)) == ["pending", "cancelled"]


def test_a_reservation_failure_after_a_cancel_does_not_reject_the_order(place):
    order = place()
    services.order_cancel(order_id=order.id, by_staff=False)

    deliver(events.STOCK_RESERVATION_FAILED, _failed(order))

    order.refresh_from_db()
    assert order.status == constants.CANCELLED and not outbox_events(events.ORDER_REJECTED)


def test_stock_news_about_an_unknown_order_is_refused_so_the_consumer_parks_it_at_once():
    with pytest.raises(EventRefused, match="never had"):
        deliver(events.STOCK_RESERVED, {"order_id": str(uuid.uuid4()), "items": []})
    assert not Order.objects.exists()


def test_every_event_order_consumes_has_a_handler():
    assert set(HANDLERS) == {events.PRODUCT_CREATED, events.PRODUCT_UPDATED, events.PRODUCT_DELETED,
                             events.STOCK_RESERVED, events.STOCK_RESERVATION_FAILED,
                             events.EMAIL_SENT, events.EMAIL_FAILED}  # DESIGN §1: the timeline's emails


def test_stock_news_with_a_malformed_order_id_is_refused():
    with pytest.raises(EventRefused):
        deliver(events.STOCK_RESERVATION_FAILED,
                {"order_id": "not-a-uuid", "shortages": [{"product_id": "p", "requested": 1, "available": 0}]})


def test_every_handler_name_has_the_inbox_key_it_had_before_mapped_to_it():
    from importlib import import_module

    renamed = import_module("orders.migrations.0003_inbox_handler_names").RENAMED
    assert {handler.name for handler in HANDLERS.values()} == set(renamed.values())
    # the keys were the functions' Python paths, which is what the migration finds in the inbox
    assert {f"{h.function.__module__}.{h.function.__qualname__}" for h in HANDLERS.values()} == set(renamed)


# --- what an event costs the database -----------------------------------------------------------------------------
# The consumer runs a handler inside its transaction, after the inbox record (shopkit's statements, not counted
# here). These pin the handler's own statements: each is a round trip to a server database, and a change that
# adds one per line, or a savepoint per event, shows here rather than in a benchmark.

@pytest.mark.parametrize("lines", [1, 4])
def test_confirming_or_rejecting_costs_four_statements_whatever_the_number_of_lines(place, make_replica,
                                                                                    django_assert_num_queries, lines):
    placed = [place(lines=[{"product_id": make_replica().product_id, "quantity": 1} for _ in range(lines)])
              for _ in range(2)]
    reserved = build_event(events.STOCK_RESERVED, _reserved(placed[0]), source="/shop/product")
    failed = build_event(events.STOCK_RESERVATION_FAILED, _failed(placed[1]), source="/shop/product")
    # the order locked and read with its lines for the payload (one SELECT), its status, its history row, the
    # outbox row
    with django_assert_num_queries(4):
        HANDLERS[events.STOCK_RESERVED](reserved)
    with django_assert_num_queries(4):
        HANDLERS[events.STOCK_RESERVATION_FAILED](failed)
    assert [Order.objects.get(pk=order.pk).status for order in placed] == [constants.CONFIRMED, constants.REJECTED]


def test_an_email_report_costs_one_insert_new_or_repeated(place, django_assert_num_queries):
    order = place()
    event = build_event(events.EMAIL_SENT, {"email_id": "e-1", "to": "ada@example.com", "kind": "order_confirmed",
                                            "cause_event_id": str(uuid.uuid4()), "order_id": str(order.id)},
                        source="/shop/email")
    with django_assert_num_queries(1):
        HANDLERS[events.EMAIL_SENT](event)
    with django_assert_num_queries(1):  # a repeat: the same INSERT, which writes no row (no savepoint to undo it)
        HANDLERS[events.EMAIL_SENT](event)
    assert OrderEmail.objects.filter(order_id=str(order.id)).count() == 1
