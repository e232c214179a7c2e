"""Publish one event straight to `shop.events`, as a misbehaving producer would (the ops tests' poison events).

The envelope names the type's owning service as its `source` (as a forged or buggy producer of that service
would), so consumers judge it by its content, not park it at once for its origin.

    python tests/e2e/publish_event.py order.shipped <subject> '<data as JSON>'   # prints the envelope as JSON

RABBITMQ_URL names the broker and vhost (default: `make up`'s). Used by test_operations.py and, from Node, by
the browser journey in frontend/e2e/run.mjs, which has no AMQP client of its own.
"""
import asyncio
import json
import os
import sys
import uuid
from datetime import datetime, timezone

import aio_pika

from shopkit.events import owner_source  # consumers park an event whose source is not its type's owner

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def publish(url: str, event_type: str, data: dict, *, subject: str) -> dict:
    """A CloudEvents envelope with routing key = type and message id = event id, confirmed by the broker."""
    envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": owner_source(event_type), "type": event_type,
                "time": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"), "subject": subject,
                "datacontenttype": "application/json", "correlationid": f"e2e-poison-{uuid.uuid4().hex[:8]}",
                "data": data}

    async def send():
        connection = await _connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange("shop.events", ensure=True)
            await exchange.publish(aio_pika.Message(
                json.dumps(envelope).encode(), content_type="application/cloudevents+json",
                message_id=envelope["id"], type=event_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=event_type)
    asyncio.run(send())
    return envelope


async def _connect(url: str, patience_s: float = 60.0):
    # Other suites on a shared machine stop and start the broker (their outage tests): wait for it a while.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    while True:
        try:
            return await aio_pika.connect(url, timeout=10)
        except (aio_pika.exceptions.AMQPConnectionError, ConnectionError, OSError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(1)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(json.dumps(publish(os.environ.get("RABBITMQ_URL") or DEFAULT_URL, sys.argv[1], json.loads(sys.argv[3]),
                             subject=sys.argv[2])))
