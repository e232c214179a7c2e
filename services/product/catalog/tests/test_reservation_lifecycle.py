"""The reservation lifecycle follows its one table (constants.RESERVATION_TRANSITIONS) over any order of saga
events: placed, cancelled and shipped, repeated, redelivered and out of order."""
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import constants, services
from catalog.handlers import HANDLERS
from catalog.models import Reservation
from catalog.tests.builders import cancelled, placed, shipped
from shopkit.messaging.consumer import apply_event
from shopkit.messaging.handling import EventRefused

ORDERS = 3
STEP_EVENTS = {constants.STEP_PLACE: placed, constants.STEP_CANCEL: cancelled, constants.STEP_SHIP: shipped}

saga_steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(sorted(STEP_EVENTS)), st.integers(0, ORDERS - 1), st.integers(1, 4)),
        st.tuples(st.just("redeliver"), st.integers(0, 1000), st.just(0)),  # the broker's second delivery
    ),
    min_size=1, max_size=25)


def state_of(order_id):
    reservation = Reservation.objects.filter(order_id=order_id).first()
    return reservation.state if reservation is not None else constants.NO_RESERVATION


def deliver(event):
    return apply_event(event, HANDLERS[event.type])


@pytest.mark.django_db
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(stock=st.integers(0, 6), steps=saga_steps)
def test_every_reservation_change_is_one_the_table_allows(stock, steps):
    with transaction.atomic():
        product = services.product_create(sku="P", name="P", price="1.00", initial_stock=stock)
        delivered = []  # (step, event) pairs that were applied, for redelivery
        for kind, order, quantity in steps:
            if kind == "redeliver":
                if not delivered:
                    continue
                step, event = delivered[order % len(delivered)]
            else:
                step = kind
                event = STEP_EVENTS[step](f"o{order}", *([(product.id, quantity)] if step == "place" else []))
            order_id = event.data["order_id"]
            before = state_of(order_id)
            row = constants.RESERVATION_TRANSITIONS[before]
            if step not in row:
                with pytest.raises(EventRefused):
                    deliver(event)
                assert state_of(order_id) == before
                continue
            applied = deliver(event)
            after = state_of(order_id)
            if not applied:  # the inbox knew this event id: nothing at all happened
                assert after == before
            elif row[step]:
                assert after in row[step], f"{before} --{step}--> {after}, the table allows {row[step]}"
            else:
                assert after == before, f"{before} --{step}--> {after}, the table says nothing changes"
            delivered.append((step, event))
            reservation = Reservation.objects.filter(order_id=order_id).first()
            if reservation is not None:
                # lines exist exactly when the order once held stock: reserved, or released or shipped after
                assert reservation.lines.exists() == (
                    reservation.state == constants.RESERVATION_COMMITTED
                    or reservation.state == constants.RESERVATION_RESERVED
                    or (reservation.state == constants.RESERVATION_RELEASED
                        and not reservation.cancelled_before_placed))
        transaction.set_rollback(True)


def test_every_state_knows_what_a_late_order_placed_and_cancel_do():
    # order.placed and order.cancelled may come in any order and any number of times: every state answers them
    for state, row in constants.RESERVATION_TRANSITIONS.items():
        assert {constants.STEP_PLACE, constants.STEP_CANCEL} <= set(row), state
        for targets in row.values():
            assert targets <= {value for value, _ in constants.RESERVATION_STATES}


def test_the_services_read_the_table_rather_than_their_own_rules(make_product, monkeypatch):
    product = make_product(stock=5)
    deliver(placed("o-1", (product.id, 2)))
    # a table in which a held reservation cannot be cancelled: the service must refuse, not release
    table = {**constants.RESERVATION_TRANSITIONS,
             constants.RESERVATION_RESERVED: {constants.STEP_PLACE: set(),
                                              constants.STEP_SHIP: {constants.RESERVATION_COMMITTED}}}
    monkeypatch.setattr(constants, "RESERVATION_TRANSITIONS", table)
    with pytest.raises(EventRefused):
        deliver(cancelled("o-1"))
    assert state_of("o-1") == constants.RESERVATION_RESERVED
