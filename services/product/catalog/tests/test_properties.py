"""Property test: whatever sequence of saga events and stock adjustments arrives, in whatever order and however
often, `0 ≤ reserved ≤ on_hand` and `on_hand = initial + adjustments − shipped` hold after every step."""
import uuid
from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import constants, services
from catalog.handlers import HANDLERS
from catalog.models import ReservationLine, Stock, StockAdjustment
from catalog.tests.builders import cancelled, placed, shipped
from shopkit.messaging.consumer import apply_event
from shopkit.messaging.handling import EventRefused
from shopkit.problems import Conflict

PRODUCTS = 2  # index 2 names a product that does not exist
ORDERS = 3

lines = st.lists(st.tuples(st.integers(0, PRODUCTS), st.integers(1, 4)), min_size=1, max_size=3)
steps = st.one_of(
    st.tuples(st.just("place"), st.integers(0, ORDERS - 1), lines),
    st.tuples(st.just("cancel"), st.integers(0, ORDERS - 1)),
    st.tuples(st.just("ship"), st.integers(0, ORDERS - 1)),
    st.tuples(st.just("adjust"), st.integers(0, PRODUCTS - 1), st.integers(-5, 5).filter(bool)),
    st.tuples(st.just("redeliver"), st.integers(0, 1000)),  # the same event again (the broker's redelivery)
    st.tuples(st.just("resend"), st.integers(0, 1000)),  # the same data under a new event id
)


class Model:
    """What the stock should be, computed without the database."""

    def __init__(self, initial):
        self.on_hand = list(initial)
        self.reserved = [0] * len(initial)
        self.orders = {}  # order → (state, Counter of product index → quantity)

    def place(self, order, wanted: Counter):
        if order in self.orders:
            return
        ok = all(p < PRODUCTS and q <= self.on_hand[p] - self.reserved[p] for p, q in wanted.items())
        if ok:
            for p, q in wanted.items():
                self.reserved[p] += q
        self.orders[order] = ("reserved" if ok else "rejected", wanted)

    def cancel(self, order):
        state, wanted = self.orders.get(order, (None, Counter()))
        if state is None:
            self.orders[order] = ("released", Counter())
        elif state == "reserved":
            for p, q in wanted.items():
                self.reserved[p] -= q
            self.orders[order] = ("released", wanted)

    def ship_fails(self, order) -> bool:
        state, wanted = self.orders.get(order, (None, Counter()))
        if state == "reserved":
            for p, q in wanted.items():
                self.reserved[p] -= q
                self.on_hand[p] -= q
            self.orders[order] = ("committed", wanted)
        return state not in ("reserved", "committed")

    def adjust_fails(self, p, delta) -> bool:
        if self.on_hand[p] + delta < self.reserved[p]:
            return True
        self.on_hand[p] += delta
        return False


def deliver(event):
    apply_event(event, HANDLERS[event.type])


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(initial=st.lists(st.integers(0, 6), min_size=PRODUCTS, max_size=PRODUCTS),
       steps=st.lists(steps, min_size=8, max_size=30))
def test_stock_invariants_hold_over_any_sequence_of_events(initial, steps):
    with transaction.atomic():
        products = [services.product_create(sku=f"P{i}", name=f"P{i}", price="1.00", initial_stock=n)
                    for i, n in enumerate(initial)]
        ids = [str(p.id) for p in products] + [str(uuid.uuid4())]
        model = Model(initial)
        delivered = []
        for step in steps:
            kind = step[0]
            if kind == "place":
                _, order, wanted = step
                event = placed(f"o{order}", *[(ids[p], q) for p, q in wanted])
                counts = Counter()
                for p, q in wanted:
                    counts[p] += q
                model.place(f"o{order}", counts)
                deliver(event)
                delivered.append(event)
            elif kind == "cancel":
                event = cancelled(f"o{step[1]}")
                model.cancel(f"o{step[1]}")
                deliver(event)
                delivered.append(event)
            elif kind == "ship":
                event = shipped(f"o{step[1]}")
                if model.ship_fails(f"o{step[1]}"):
                    with pytest.raises(EventRefused):
                        deliver(event)
                else:
                    deliver(event)
                    delivered.append(event)
            elif kind == "adjust":
                _, p, delta = step
                if model.adjust_fails(p, delta):
                    with pytest.raises(Conflict):
                        services.stock_adjust(product_id=products[p].id, delta=delta, reason="count")
                else:
                    services.stock_adjust(product_id=products[p].id, delta=delta, reason="count")
            elif delivered:
                original = delivered[step[1] % len(delivered)]
                # either way the order's reservation is already where the model has it: no second effect
                deliver(original if kind == "redeliver" else type(original)(
                    type=original.type, source=original.source, data=original.data, subject=original.subject))
            check_levels(products, model)
        check_audit_trail(products)
        transaction.set_rollback(True)


def check_levels(products, model):
    levels = {pk: (on_hand, reserved) for pk, on_hand, reserved in
              Stock.objects.values_list("pk", "on_hand", "reserved")}
    for index, product in enumerate(products):
        on_hand, reserved = levels[product.pk]
        assert 0 <= reserved <= on_hand
        assert (on_hand, reserved) == (model.on_hand[index], model.reserved[index])


def check_audit_trail(products):
    """The stock levels agree with the history: adjustments, shipped and still-held reservation lines."""
    for product in products:
        stock = Stock.objects.get(pk=product.pk)
        adjustments = StockAdjustment.objects.filter(product=product).aggregate(s=Sum("delta"))["s"] or 0
        lines = ReservationLine.objects.filter(product=product)
        shipped_total = lines.filter(reservation__state=constants.RESERVATION_COMMITTED).aggregate(
            s=Sum("quantity"))["s"] or 0
        held = lines.filter(reservation__state=constants.RESERVATION_RESERVED).aggregate(s=Sum("quantity"))["s"] or 0
        # the initial stock is the first adjustment of the audit trail, hence "initial + adjustments" in one sum
        assert stock.on_hand == adjustments - shipped_total
        assert stock.reserved == held
