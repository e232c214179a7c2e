"""Many consumers racing for little stock on a real server database: never oversold, never deadlocked."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from catalog import constants, services
from catalog.models import Reservation, Stock
from shopkit import events
from shopkit.testing import outbox_events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def server_database_only():
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL or MySQL; SQLite serialises writers at BEGIN IMMEDIATE instead "
                    "(set PRODUCT_DATABASE_URL to run this)")


def race(count, make_items):
    """``count`` reservations at once, each on its own connection; returns how many were reserved."""
    barrier = threading.Barrier(count)

    def attempt(i):
        try:
            barrier.wait(timeout=30)
            return services.reservation_create(order_id=f"race-{i}", items=make_items(i)).state
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        states = list(pool.map(attempt, range(count)))
    return states.count(constants.RESERVATION_RESERVED)


def test_concurrent_reservations_of_scarce_stock_succeed_exactly_as_often_as_possible(make_product):
    product = make_product(stock=7)
    assert race(16, lambda i: [(str(product.id), 2)]) == 3
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.reserved, stock.available) == (7, 6, 1)
    assert len(outbox_events(events.STOCK_RESERVED)) == 3
    assert len(outbox_events(events.STOCK_RESERVATION_FAILED)) == 13
    assert Reservation.objects.count() == 16


def test_orders_naming_the_same_products_in_opposite_orders_do_not_deadlock(make_product):
    a, b = make_product(stock=5), make_product(stock=3)

    def items(i):
        pair = [(str(a.id), 1), (str(b.id), 1)]
        return pair if i % 2 else pair[::-1]

    assert race(12, items) == 3
    assert [Stock.objects.get(pk=p.pk).available for p in (a, b)] == [2, 0]


def test_concurrent_reservations_and_releases_keep_reserved_exact(make_product):
    product = make_product(stock=4)
    for i in range(4):
        services.reservation_create(order_id=f"held-{i}", items=[(str(product.id), 1)])
    barrier = threading.Barrier(8)

    def work(i):
        try:
            barrier.wait(timeout=30)
            if i < 4:
                services.reservation_release(order_id=f"held-{i}")
            else:
                services.reservation_create(order_id=f"new-{i}", items=[(str(product.id), 1)])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    stock = Stock.objects.get(pk=product.pk)
    reserved_now = Reservation.objects.filter(state=constants.RESERVATION_RESERVED).count()
    assert stock.reserved == reserved_now <= 4 and stock.on_hand == 4


def test_order_placed_and_its_cancel_handled_at_the_same_moment_end_released_without_an_error(make_product):
    # The saga's one race: both find no reservation, both insert; the loser must apply its step to the
    # winner's reservation in its own transaction, not fail and wait for a retry.
    product = make_product(stock=100)
    pairs = 8
    barrier = threading.Barrier(2 * pairs)

    def work(i):
        try:
            barrier.wait(timeout=30)
            if i % 2:
                services.reservation_release(order_id=f"pair-{i // 2}")
            else:
                services.reservation_create(order_id=f"pair-{i // 2}", items=[(str(product.id), 1)])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2 * pairs) as pool:
        list(pool.map(work, range(2 * pairs)))  # re-raises the first failure of any of them
    assert set(Reservation.objects.values_list("state", flat=True)) == {constants.RESERVATION_RELEASED}
    assert Reservation.objects.count() == pairs
    assert Stock.objects.get(pk=product.pk).reserved == 0
    assert sorted(e["subject"] for e in outbox_events(events.STOCK_RELEASED)) == sorted(f"pair-{i}" for i in range(pairs))
