"""The saga's events through the real broker: order.* published by "the order service" reach this service's
consumer, and its answers leave through the outbox relay (a RabbitMQ vhost of the test session's own)."""
import asyncio

import pytest

from catalog import constants
from catalog.models import Reservation, Stock
from catalog.tests.builders import cancelled, placed, shipped
from shopkit import events
from shopkit.messaging import parking
from shopkit.messaging.consumer import Consumer
from shopkit.messaging.models import OutboxMessage
from shopkit.messaging.relay import Relay
from shopkit.testing import publish_events, running, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def service(settings, broker, request):
    """A service name of this test's own, so its queues are fresh even if an earlier test left messages."""
    settings.SHOPKIT_SERVICE = f"product{abs(hash(request.node.name)) % 10**8}"


def state(order_id):
    reservation = Reservation.objects.filter(order_id=order_id).first()
    return reservation.state if reservation else None


def test_the_saga_runs_through_the_broker_and_answers_leave_through_the_outbox(service, broker, make_product):
    product = make_product(stock=3)
    with running(Consumer()) as consumer, running(Relay()):
        publish_events(broker, placed("o-ok", (product.id, 2)), placed("o-short", (product.id, 2)))
        wait_until(lambda: state("o-ok") and state("o-short"))
        publish_events(broker, shipped("o-ok"), cancelled("o-early"))
        wait_until(lambda: state("o-ok") == constants.RESERVATION_COMMITTED and state("o-early"))
        publish_events(broker, placed("o-early", (product.id, 1)))  # overtaken by its cancel: reserves nothing
        wait_until(lambda: consumer.handled >= 5)
        wait_until(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists())
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.reserved) == (1, 0)
    assert state("o-short") == constants.RESERVATION_REJECTED
    assert state("o-early") == constants.RESERVATION_RELEASED
    sent = list(OutboxMessage.objects.exclude(event_type=events.PRODUCT_CREATED)
                .order_by("id").values_list("event_type", "subject"))
    assert sent == [(events.STOCK_RESERVED, "o-ok"), (events.STOCK_RESERVATION_FAILED, "o-short"),
                    (events.STOCK_RELEASED, "o-early")]


def test_shipping_an_order_that_holds_nothing_is_parked_at_once_with_its_reason(service, broker, settings,
                                                                                  make_product):
    # No retry can make it right (the order service ships only confirmed orders): it waits for a person.
    product = make_product(stock=3)
    with running(Consumer()) as consumer:
        publish_events(broker, shipped("o-never-placed"), placed("o-after", (product.id, 1)))
        wait_until(lambda: consumer.parked == 1 and state("o-after") == constants.RESERVATION_RESERVED)
    [parked] = asyncio.run(parking.list_parked(broker, settings.SHOPKIT_SERVICE))
    assert parked["type"] == events.ORDER_SHIPPED
    assert parked["attempts"] == 1  # not after MAX_ATTEMPTS timed retries
    assert "o-never-placed" in parked["error"] and "holds no reservation" in parked["error"]
    assert state("o-never-placed") is None
