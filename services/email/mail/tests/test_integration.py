"""Through the real broker: the email service's consumer turns a twice-delivered event into one message."""
import asyncio

import aio_pika
import pytest

from mail.models import EmailMessage
from mail.tests.builders import order_event
from shopkit import events
from shopkit.envelope import CONTENT_TYPE
from shopkit.messaging.config import EXCHANGE
from shopkit.messaging.consumer import Consumer
from shopkit.testing import running, wait_until


async def publish(url: str, event, times: int) -> None:
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        for _ in range(times):
            await exchange.publish(aio_pika.Message(body=event.to_json(), content_type=CONTENT_TYPE,
                                                    message_id=event.id, type=event.type),
                                   routing_key=event.type)


@pytest.mark.django_db(transaction=True)
def test_an_event_published_twice_makes_one_message(broker):
    event = order_event(events.ORDER_CONFIRMED)
    with running(Consumer()) as consumer:
        asyncio.run(publish(broker, event, times=2))
        wait_until(lambda: consumer.handled == 2)
    assert EmailMessage.objects.filter(cause_event_id=event.id).count() == 1
    assert consumer.parked == 0
