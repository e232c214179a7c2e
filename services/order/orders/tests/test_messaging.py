"""The order service at its own boundary on the real broker: events in (product.*, stock.*), events out
(order.*), through its consumer and outbox relay. The product side is played by the test, with events only;
the saga across real services is tests/e2e's."""
import uuid

import pytest

from shopkit import events
from shopkit.envelope import build_event
from shopkit.messaging.consumer import Consumer
from shopkit.messaging.relay import Relay
from shopkit.testing import EventTap, auth_header, publish_events, running, wait_until

from orders import constants
from orders.models import Order, ProductReplica
from orders.tests.builders import ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def service(settings, broker, request):
    """A service name of this test's own, so its queues are fresh even if an earlier test left messages."""
    settings.SHOPKIT_SERVICE = f"order{abs(hash(request.node.name)) % 10**8}"
    return settings.SHOPKIT_SERVICE


def from_product(event_type, data, subject):
    return build_event(event_type, data, source="/shop/product", subject=subject)


def product_created(sku):
    product_id = str(uuid.uuid4())
    return from_product(events.PRODUCT_CREATED, {"product_id": product_id, "sku": sku, "name": f"Product {sku}",
                                                 "price": "12.50", "currency": "EUR", "active": True,
                                                 "version": 1}, product_id)


def status(order_id):
    return Order.objects.get(pk=order_id).status


def test_the_order_side_of_the_saga_answers_through_the_broker(service, broker, client):
    customer = auth_header(role="customer", email="ada@example.com", name="Ada Lovelace")

    def place(product_id, quantity=1):
        response = client.post("/api/v1/orders/", {"items": [{"product_id": product_id, "quantity": quantity}],
                                                   "shipping_address": ADDRESS},
                               content_type="application/json", **customer)
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    pen = product_created("PEN-1")
    with EventTap(broker, "order.*") as tap, running(Consumer(retry_base_ms=200)) as consumer, \
            running(Relay(poll_seconds=0.5)):
        publish_events(broker, pen)
        pen_id = pen.data["product_id"]
        wait_until(lambda: ProductReplica.objects.filter(product_id=pen_id, active=True).exists(),
                   what="product.created reaching the replica")

        # placed → order.placed goes out; stock.reserved comes back → confirmed, order.confirmed goes out
        confirmed = place(pen_id, 2)
        [placed] = wait_until(lambda: tap.of(events.ORDER_PLACED, confirmed), what="order.placed on the broker")
        assert placed.data["items"][0]["product_id"] == pen_id and placed.data["items"][0]["quantity"] == 2
        reserved = from_product(events.STOCK_RESERVED, {"order_id": confirmed, "items": [
            {"product_id": pen_id, "quantity": 2}]}, confirmed)
        publish_events(broker, reserved, reserved)  # the second copy is the broker's redelivery
        wait_until(lambda: tap.of(events.ORDER_CONFIRMED, confirmed), what="order.confirmed on the broker")

        # stock.reservation_failed → rejected, and order.rejected carries the shortages and the lines
        rejected = place(pen_id, 3)
        publish_events(broker, from_product(events.STOCK_RESERVATION_FAILED, {"order_id": rejected, "shortages": [
            {"product_id": pen_id, "requested": 3, "available": 1}]}, rejected))
        [rejection] = wait_until(lambda: tap.of(events.ORDER_REJECTED, rejected), what="order.rejected")
        assert rejection.data["shortages"] == [{"product_id": pen_id, "requested": 3, "available": 1}]
        assert rejection.data["items"][0]["name"] == "Product PEN-1"

        # the customer's cancel overtakes the reservation: the late stock.reserved changes nothing
        overtaken = place(pen_id)
        response = client.post(f"/api/v1/orders/{overtaken}/cancel", {}, content_type="application/json",
                               **customer)
        assert response.status_code == 200, response.json()
        wait_until(lambda: tap.of(events.ORDER_CANCELLED, overtaken), what="order.cancelled on the broker")
        publish_events(broker, from_product(events.STOCK_RESERVED, {"order_id": overtaken, "items": [
            {"product_id": pen_id, "quantity": 1}]}, overtaken))

        # news of an order this service never had is parked at once, and the others kept flowing
        publish_events(broker, from_product(events.STOCK_RESERVED, {"order_id": str(uuid.uuid4()), "items": []},
                                            "ghost"))
        wait_until(lambda: consumer.parked == 1, what="the unknown order's stock.reserved parked")
        wait_until(lambda: consumer.handled >= 5, what="every other event handled")

        assert (status(confirmed), status(rejected), status(overtaken)) == (
            constants.CONFIRMED, constants.REJECTED, constants.CANCELLED)
        assert len(tap.of(events.ORDER_CONFIRMED, confirmed)) == 1
        assert tap.of(events.ORDER_CONFIRMED, overtaken) == []
        assert [e.type for e in tap.received() if e.subject == confirmed] == [events.ORDER_PLACED,
                                                                              events.ORDER_CONFIRMED]
