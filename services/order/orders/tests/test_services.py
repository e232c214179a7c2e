"""Placement, idempotency keys and every status transition, called on the services directly."""
import threading
from decimal import Decimal

import pytest
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopkit import events
from shopkit.problems import ApplicationError, Conflict, NotFound
from shopkit.testing import outbox_events

from orders import constants, services
from orders.models import IdempotencyRecord, Order, StatusHistory
from orders.tests.builders import ADDRESS

pytestmark = pytest.mark.django_db


# --- placement ----------------------------------------------------------------------------------------------------

def test_place_snapshots_the_replica_and_emits_order_placed(make_replica, customer):
    pen = make_replica(name="Fountain pen", sku="PEN-1", price="12.50")
    ink = make_replica(name="Ink", sku="INK-1", price="3.35")

    order, created = services.order_place(customer=customer, shipping_address=ADDRESS, items=[
        {"product_id": pen.product_id, "quantity": 2}, {"product_id": ink.product_id, "quantity": 3}])

    assert created and order.status == constants.PENDING
    assert order.total == Decimal("35.05") and order.currency == "EUR"
    lines = list(order.lines.all())
    assert [(l.sku, l.name, l.unit_price, l.quantity, l.line_total) for l in lines] == [
        ("PEN-1", "Fountain pen", Decimal("12.50"), 2, Decimal("25.00")),
        ("INK-1", "Ink", Decimal("3.35"), 3, Decimal("10.05"))]
    assert [(h.status, h.reason) for h in order.history.all()] == [(constants.PENDING, constants.REASON_PLACED)]
    [placed] = outbox_events(events.ORDER_PLACED)
    assert placed["subject"] == str(order.id)
    assert placed["data"] == {
        "order_id": str(order.id), "customer_id": customer.id, "customer_email": "ada@example.com",
        "customer_name": "Ada Lovelace", "total": "35.05", "currency": "EUR",
        "items": [
            {"product_id": pen.product_id, "sku": "PEN-1", "name": "Fountain pen", "quantity": 2,
             "unit_price": "12.50", "line_total": "25.00"},
            {"product_id": ink.product_id, "sku": "INK-1", "name": "Ink", "quantity": 3,
             "unit_price": "3.35", "line_total": "10.05"}]}


def test_a_later_price_change_does_not_touch_a_placed_order(make_replica, place):
    pen = make_replica(price="12.50")
    order = place(lines=[{"product_id": pen.product_id, "quantity": 1}])

    services.product_replica_apply(product_id=pen.product_id, version=2, sku=pen.sku, name="Renamed",
                                   price="99.00", currency="EUR", active=True)

    line = Order.objects.get(pk=order.pk).lines.get()
    assert (line.name, line.unit_price) == (pen.name, Decimal("12.50"))


def test_repeated_product_lines_are_merged_into_one(make_replica, place):
    pen, ink = make_replica(), make_replica()

    order = place(lines=[{"product_id": pen.product_id, "quantity": 2}, {"product_id": ink.product_id, "quantity": 1},
                         {"product_id": pen.product_id, "quantity": 3}])

    assert [(l.product_id, l.quantity) for l in order.lines.all()] == [(pen.product_id, 5), (ink.product_id, 1)]
    assert order.total == Decimal("60.00")


def test_merged_lines_may_not_exceed_the_quantity_limit(make_replica, customer):
    pen = make_replica()

    with pytest.raises(ApplicationError) as caught:
        services.order_place(customer=customer, shipping_address=ADDRESS, items=[
            {"product_id": pen.product_id, "quantity": 60}, {"product_id": pen.product_id, "quantity": 41}])

    assert caught.value.status == 400
    assert "quantity" in caught.value.errors["items"][0] and "quantity" in caught.value.errors["items"][1]
    assert not Order.objects.exists() and not outbox_events()


@pytest.mark.parametrize("state", ["unknown", "inactive", "deleted"])
def test_a_product_that_cannot_be_ordered_fails_the_whole_order(make_replica, customer, state):
    good = make_replica()
    if state == "unknown":
        bad_id = "no-such-product"
    else:
        bad_id = make_replica(active=False, deleted=state == "deleted").product_id

    with pytest.raises(ApplicationError) as caught:
        services.order_place(customer=customer, shipping_address=ADDRESS, items=[
            {"product_id": good.product_id, "quantity": 1}, {"product_id": bad_id, "quantity": 1}])

    assert caught.value.status == 400
    assert caught.value.errors["items"][0] == {}
    assert "product_id" in caught.value.errors["items"][1]
    assert not Order.objects.exists() and not outbox_events()


def test_an_order_has_one_currency(make_replica, customer):
    euro, dollar = make_replica(currency="EUR"), make_replica(currency="USD")

    with pytest.raises(ApplicationError) as caught:
        services.order_place(customer=customer, shipping_address=ADDRESS, items=[
            {"product_id": euro.product_id, "quantity": 1}, {"product_id": dollar.product_id, "quantity": 1}])

    assert caught.value.status == 400
    assert "USD" in caught.value.errors["items"][1]["product_id"][0]
    assert not Order.objects.exists()


def test_an_order_has_at_most_fifty_lines(make_replica, customer):
    lines = [{"product_id": make_replica().product_id, "quantity": 1} for _ in range(constants.MAX_LINES + 1)]

    with pytest.raises(ApplicationError):
        services.order_place(customer=customer, shipping_address=ADDRESS, items=lines)

    order, _ = services.order_place(customer=customer, shipping_address=ADDRESS, items=lines[:constants.MAX_LINES])
    assert order.lines.count() == constants.MAX_LINES


# --- idempotency keys ---------------------------------------------------------------------------------------------

def test_the_same_key_and_body_return_the_same_order(place, make_replica, customer):
    lines = [{"product_id": make_replica().product_id, "quantity": 1}]
    first, created = services.order_place(customer=customer, items=lines, shipping_address=ADDRESS,
                                          idempotency_key="k-1", fingerprint="body-a")

    again, created_again = services.order_place(customer=customer, items=lines, shipping_address=ADDRESS,
                                                idempotency_key="k-1", fingerprint="body-a")

    assert created and not created_again and again.id == first.id
    assert Order.objects.count() == 1 and len(outbox_events(events.ORDER_PLACED)) == 1


def test_the_same_key_with_another_body_is_422(make_replica, customer):
    lines = [{"product_id": make_replica().product_id, "quantity": 1}]
    services.order_place(customer=customer, items=lines, shipping_address=ADDRESS, idempotency_key="k-1",
                         fingerprint="body-a")

    with pytest.raises(services.IdempotencyKeyReused) as caught:
        services.order_place(customer=customer, items=lines, shipping_address=ADDRESS, idempotency_key="k-1",
                             fingerprint="body-b")

    assert caught.value.status == 422 and Order.objects.count() == 1


def test_keys_belong_to_one_customer(make_replica, customer):
    lines = [{"product_id": make_replica().product_id, "quantity": 1}]
    other = services.Customer(id="someone-else", email="bob@example.com")

    mine, _ = services.order_place(customer=customer, items=lines, shipping_address=ADDRESS,
                                   idempotency_key="k-1", fingerprint="body-a")
    theirs, created = services.order_place(customer=other, items=lines, shipping_address=ADDRESS,
                                           idempotency_key="k-1", fingerprint="body-a")

    assert created and theirs.id != mine.id and theirs.customer_id == "someone-else"


def test_a_failed_placement_does_not_use_up_the_key(make_replica, customer):
    with pytest.raises(ApplicationError):
        services.order_place(customer=customer, items=[{"product_id": "nope", "quantity": 1}],
                             shipping_address=ADDRESS, idempotency_key="k-1", fingerprint="body-a")

    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_place_one_order(make_replica, customer, monkeypatch):
    lines = [{"product_id": make_replica().product_id, "quantity": 1}]
    # Both requests look the key up before either has written it: the unique constraint must decide.
    both_looked = threading.Barrier(2, timeout=10)
    lookup = services._order_for_idempotency_key
    first_lookup_done = threading.local()

    def lookup_then_wait(**kwargs):
        found = lookup(**kwargs)
        if not getattr(first_lookup_done, "value", False):
            first_lookup_done.value = True
            both_looked.wait()
        return found

    monkeypatch.setattr(services, "_order_for_idempotency_key", lookup_then_wait)
    results, failures = [], []

    def request():
        try:
            results.append(services.order_place(customer=customer, items=lines, shipping_address=ADDRESS,
                                                idempotency_key="k-race", fingerprint="body-a"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert failures == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({order.id for order, _ in results}) == 1
    assert Order.objects.count() == 1 and len(outbox_events(events.ORDER_PLACED)) == 1


# --- transitions --------------------------------------------------------------------------------------------------

def _history(order) -> list[str]:
    return list(StatusHistory.objects.filter(order=order).order_by("at", "id").values_list("status", flat=True))


def test_reserved_stock_confirms_a_pending_order(place):
    order = place()

    services.order_confirm_for_reservation(order_id=order.id)

    order.refresh_from_db()
    assert order.status == constants.CONFIRMED and _history(order) == ["pending", "confirmed"]
    [confirmed] = outbox_events(events.ORDER_CONFIRMED)
    assert confirmed["data"]["order_id"] == str(order.id)
    assert confirmed["data"]["customer_name"] == "Ada Lovelace" and confirmed["data"]["items"][0]["name"]


def test_a_reservation_failure_rejects_a_pending_order_with_the_shortages(place):
    order = place()
    shortage = {"product_id": order.lines.get().product_id, "requested": 1, "available": 0}

    services.order_reject_for_reservation_failure(order_id=order.id, shortages=[shortage])

    order.refresh_from_db()
    assert order.status == constants.REJECTED and _history(order) == ["pending", "rejected"]
    [rejected] = outbox_events(events.ORDER_REJECTED)
    assert rejected["data"] == {"order_id": str(order.id), "customer_email": "ada@example.com",
                                "customer_name": "Ada Lovelace", "reason": constants.REASON_OUT_OF_STOCK,
                                "shortages": [shortage], "items": rejected["data"]["items"]}
    # the lines travel with it, so the rejection email can name what was short (DESIGN.md §3)
    line = order.lines.get()
    assert rejected["data"]["items"] == [{
        "product_id": line.product_id, "sku": line.sku, "name": line.name, "quantity": line.quantity,
        "unit_price": f"{line.unit_price:.2f}", "line_total": f"{line.line_total:.2f}"}]


@pytest.mark.parametrize("confirmed_first", [False, True])
def test_a_pending_or_confirmed_order_can_be_cancelled(place, confirmed_first):
    order = place()
    if confirmed_first:
        services.order_confirm_for_reservation(order_id=order.id)

    services.order_cancel(order_id=order.id, by_staff=False, reason="changed my mind")

    order.refresh_from_db()
    assert order.status == constants.CANCELLED and _history(order)[-1] == "cancelled"
    [cancelled] = outbox_events(events.ORDER_CANCELLED)
    assert cancelled["data"]["reason"] == "changed my mind" and cancelled["data"]["total"] == "10.00"


def test_a_cancel_without_reason_says_who_cancelled(place):
    order = place()

    services.order_cancel(order_id=order.id, by_staff=True)

    assert outbox_events(events.ORDER_CANCELLED)[0]["data"]["reason"] == constants.REASON_CANCELLED_BY_STAFF


def test_the_happy_path_ships_and_delivers(place):
    order = place()
    services.order_confirm_for_reservation(order_id=order.id)

    services.order_ship(order_id=order.id)
    services.order_deliver(order_id=order.id)

    order.refresh_from_db()
    assert order.status == constants.DELIVERED
    assert _history(order) == ["pending", "confirmed", "shipped", "delivered"]
    assert [e["type"] for e in outbox_events(subject=order.id)] == [
        events.ORDER_PLACED, events.ORDER_CONFIRMED, events.ORDER_SHIPPED, events.ORDER_DELIVERED]
    assert outbox_events(events.ORDER_DELIVERED)[0]["data"]["customer_email"] == "ada@example.com"


_PATH_TO = {  # how to bring a fresh order into each status
    constants.PENDING: [],
    constants.CONFIRMED: ["confirm"],
    constants.REJECTED: ["reject"],
    constants.CANCELLED: ["cancel"],
    constants.SHIPPED: ["confirm", "ship"],
    constants.DELIVERED: ["confirm", "ship", "deliver"],
}


def _do(action, order_id):
    return {
        "confirm": lambda: services.order_confirm_for_reservation(order_id=order_id),
        "reject": lambda: services.order_reject_for_reservation_failure(
            order_id=order_id, shortages=[{"product_id": "p", "requested": 1, "available": 0}]),
        "cancel": lambda: services.order_cancel(order_id=order_id, by_staff=True),
        "ship": lambda: services.order_ship(order_id=order_id),
        "deliver": lambda: services.order_deliver(order_id=order_id),
    }[action]()


# Written out rather than derived from constants.TRANSITIONS, so a wrong table cannot also make the test pass.
_ILLEGAL = [
    *[(status, "cancel") for status in ("rejected", "cancelled", "shipped", "delivered")],
    *[(status, "ship") for status in ("pending", "rejected", "cancelled", "shipped", "delivered")],
    *[(status, "deliver") for status in ("pending", "confirmed", "rejected", "cancelled", "delivered")],
]


@pytest.mark.parametrize(("status", "action"), _ILLEGAL)
def test_an_illegal_transition_is_a_conflict_and_changes_nothing(place, status, action):
    order = place()
    for step in _PATH_TO[status]:
        _do(step, order.id)
    events_before, history_before = len(outbox_events()), _history(order)

    with pytest.raises(Conflict) as caught:
        _do(action, order.id)

    order.refresh_from_db()
    assert caught.value.status == 409
    assert order.status == status and _history(order) == history_before and len(outbox_events()) == events_before


@pytest.mark.parametrize("status", [s for s in constants.STATUSES if s != constants.PENDING])
def test_stock_news_for_an_order_that_is_no_longer_pending_changes_nothing(place, status):
    order = place()
    for step in _PATH_TO[status]:
        _do(step, order.id)
    events_before, history_before = len(outbox_events()), _history(order)

    assert services.order_confirm_for_reservation(order_id=order.id) is None
    assert services.order_reject_for_reservation_failure(order_id=order.id, shortages=[]) is None

    order.refresh_from_db()
    assert order.status == status and _history(order) == history_before and len(outbox_events()) == events_before


def test_a_transition_of_an_unknown_order_is_not_found(db):
    with pytest.raises(NotFound):
        services.order_ship(order_id="7d0a8a9e-55a4-4b8e-9d8e-6c1b4f0b8a11")


# --- any sequence of actions --------------------------------------------------------------------------------------

# An independent model of DESIGN.md §4: which action moves which status where.
_MODEL = {
    ("pending", "confirm"): "confirmed", ("pending", "reject"): "rejected", ("pending", "cancel"): "cancelled",
    ("confirmed", "cancel"): "cancelled", ("confirmed", "ship"): "shipped", ("shipped", "deliver"): "delivered",
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(["confirm", "reject", "cancel", "ship", "deliver"]), max_size=8))
def test_any_sequence_of_actions_follows_the_state_machine_and_records_each_step(place, actions):
    order = place()
    expected = ["pending"]
    for action in actions:
        moved_to = _MODEL.get((expected[-1], action))
        try:
            _do(action, order.id)
        except Conflict:
            assert moved_to is None
        if moved_to:
            expected.append(moved_to)

    order.refresh_from_db()
    assert order.status == expected[-1]
    assert _history(order) == expected
    # one event per status entered, in order, each for this order
    assert [e["type"].split(".")[1] for e in outbox_events(subject=order.id)] == [
        "placed" if status == "pending" else status for status in expected]
