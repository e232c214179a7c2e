"""Parked messages: list what sits in ``<service>.events.dead``, put messages back into the main queue or discard
them, and the depth and consumers of a service's queues."""
import asyncio
import hashlib
import json
from dataclasses import dataclass

import aio_pika

from shopkit.messaging.config import QueueNames


def parked_id(message) -> str:
    """How a parked message is named: its AMQP message id (the event id), or for a message published without
    one, a digest of its body (stable, so it can still be replayed or discarded)."""
    if message.message_id:
        return str(message.message_id)
    return "sha1-" + hashlib.sha1(message.body).hexdigest()[:20]


def _envelope_fields(body: bytes) -> dict:
    # Best effort: a parked message may not even be JSON (that may be why it was parked).
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _describe(message) -> dict:
    headers = message.headers or {}
    envelope = _envelope_fields(message.body)
    return {
        "id": parked_id(message),
        "subject": str(envelope.get("subject") or ""),
        "correlation_id": str(envelope.get("correlationid") or ""),
        "message_id": message.message_id,
        # the envelope's type before the routing key the consumer saw: after a retry that is a queue's name
        "type": message.type or str(envelope.get("type") or "") or headers.get("x-shop-routing-key", ""),
        "attempts": headers.get("x-shop-attempts"),
        "parked_at": headers.get("x-shop-parked-at"),
        "error": headers.get("x-shop-error", ""),
        "body": message.body.decode("utf-8", "replace"),
    }


async def _drain(channel, queue_name: str):
    """Fetch every message of the queue without acking (they all return when the channel closes). A queue that
    does not exist (a service that consumes nothing, or whose consumer never ran) holds nothing."""
    try:
        queue = await channel.declare_queue(queue_name, durable=True, passive=True)
    except aio_pika.exceptions.ChannelClosed:
        return []
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
            if wanted and parked_id(message) not in wanted:
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-shop-")}
            await channel.default_exchange.publish(
                aio_pika.Message(body=message.body, content_type=message.content_type,
                                 message_id=message.message_id, type=message.type, headers=headers,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=names.main, mandatory=False)
            await message.ack()
            replayed.append(parked_id(message))
    return replayed


async def discard_parked(url: str, service: str, message_ids: list[str]) -> list[str]:
    """Remove the parked messages whose ids are listed, for good; return the ids found (and removed)."""
    wanted = set(message_ids)
    discarded = []
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel()
        for message in await _drain(channel, QueueNames(service).dead):
            if parked_id(message) in wanted:
                await message.ack()
                discarded.append(parked_id(message))
    return discarded


@dataclass(frozen=True)
class QueueStats:
    """What the broker says of a service's queues; None where the queue does not exist (yet)."""

    depth: int | None  # messages ready in <service>.events
    consumers: int | None  # consumers attached to it
    parked: int | None  # messages in <service>.events.dead


async def queue_stats(url: str, service: str) -> QueueStats:
    """Counts from passive queue declarations: nothing is created, and a missing queue reads as None."""
    names = QueueNames(service)
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        main = await _declared(connection, names.main)
        dead = await _declared(connection, names.dead)
    return QueueStats(depth=main.message_count if main else None, consumers=main.consumer_count if main else None,
                      parked=dead.message_count if dead else None)


async def _declared(connection, name: str):
    # A passive declare of a missing queue closes its channel (404), so each gets a channel of its own.
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
    except aio_pika.exceptions.ChannelClosed:
        return None
    result = queue.declaration_result
    await channel.close()
    return result
