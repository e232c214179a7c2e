"""Parked messages: list what sits in ``<service>.events.dead`` and put messages back into the main queue."""

import aio_pika

from shopkit.messaging.config import QueueNames


def _describe(message) -> dict:
    headers = message.headers or {}
    return {
        "message_id": message.message_id,
        "type": message.type or headers.get("x-shop-routing-key", ""),
        "attempts": headers.get("x-shop-attempts"),
        "parked_at": headers.get("x-shop-parked-at"),
        "error": headers.get("x-shop-error", ""),
        "body": message.body.decode("utf-8", "replace"),
    }


async def _drain(channel, queue_name: str):
    """Fetch every message of the queue without acking (they all return when the channel closes)."""
    queue = await channel.declare_queue(queue_name, durable=True, passive=True)
    taken = []
    while True:
        message = await queue.get(no_ack=False, fail=False, timeout=5)
        if message is None:
            return taken
        taken.append(message)


async def list_parked(url: str, service: str) -> list[dict]:
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel()
        messages = await _drain(channel, QueueNames(service).dead)
        return [_describe(m) for m in messages]  # closing the channel puts them all back, in order


async def replay_parked(url: str, service: str, message_ids: list[str] | None = None) -> list[str]:
    """Move parked messages (all, or those whose message id is listed) back to the main queue, attempt 1.

    Each is republished with a publisher confirm before it is acked in the dead queue, so a crash in between
    leaves a copy in both places — never in neither; the inbox absorbs the duplicate.
    """
    names = QueueNames(service)
    wanted = set(message_ids or [])
    replayed = []
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for message in await _drain(channel, names.dead):
            if wanted and message.message_id not in wanted:
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-shop-")}
            await channel.default_exchange.publish(
                aio_pika.Message(body=message.body, content_type=message.content_type,
                                 message_id=message.message_id, type=message.type, headers=headers,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=names.main, mandatory=False)
            await message.ack()
            replayed.append(message.message_id)
    return replayed

