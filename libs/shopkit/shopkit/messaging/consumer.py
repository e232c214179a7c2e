"""The consumer runner: declares a service's topology and applies each event once, in its own transaction.

Topology of service ``svc`` (all durable):
  ``shop.events`` (topic) ─ bindings from the handler table ─► ``svc.events`` (quorum queue)
  ``svc.events.retry.N`` (TTL base·2^(N-1), dead-letters back to ``svc.events``): a failed message waits here
  ``svc.events.dead``: a message that failed MAX_ATTEMPTS times, or can never succeed, is parked here with
  its error, until ``manage.py parked_replay`` puts it back.

Each message is handled in one database transaction together with its inbox record and acked after commit,
so a redelivered event has no second effect. On SIGTERM the message in hand is finished, then it exits.

A database error is the event's failure (counted, retried, parked) unless the database does not answer a new
connection: then it is an outage, and the consumer gives back every message it holds, uncounted, and takes
none until its database answers again — other replicas carry on meanwhile, and nothing waits behind it.
"""
import asyncio
import concurrent.futures
import threading
import time
from datetime import datetime, timezone

import aio_pika
from django.db import IntegrityError, close_old_connections, connections, transaction

from shopkit import metrics
from shopkit.context import correlated
from shopkit.envelope import Event, parse_event
from shopkit.events import InvalidEvent, owner_source
from shopkit.logging import get_logger
from shopkit.messaging.config import EXCHANGE, QueueNames, consumer_settings, rabbitmq_url, service_name
from shopkit.messaging.handling import EventRefused, Handler, checked_handlers, load_handlers
from shopkit.messaging.runtime import DATABASE_UNAVAILABLE, database_answers, sleep_or_stop
from shopkit.messaging.models import InboxRecord

log = get_logger(__name__)

BROKER_ERRORS = (aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError, ConnectionError,
                 OSError, asyncio.TimeoutError)
ATTEMPT_HEADER = "x-shop-attempt"
DATABASE_WAIT_MAX = 5.0  # seconds between two looks at a database that is away


class DatabaseAway(Exception):
    """The consumer's database does not answer: the messages in hand go back to the queue."""


def apply_event(event: Event, handler: Handler) -> bool:
    """Run ``handler`` for ``event`` once: in one transaction with its inbox record.

    Returns False when the inbox shows it was already applied (a redelivery), True when it ran now.
    Whatever the handler raises propagates, and the transaction — inbox record included — rolls back: an
    EventRefused (it can never succeed) is parked at once by the consumer, anything else is retried.
    """
    name = handler.name  # declared in the handler table: a rename of the function changes nothing here
    with correlated(event.correlationid or None), transaction.atomic():
        if InboxRecord.objects.filter(event_id=event.id, handler=name).exists():
            return False
        try:
            with transaction.atomic():
                InboxRecord.objects.create(event_id=event.id, handler=name, event_type=event.type)
        except IntegrityError:
            return False  # a concurrent delivery of the same event got there first
        handler(event)
        return True


class Consumer:
    def __init__(self, *, service: str | None = None, handlers: dict[str, Handler] | None = None,
                 url: str | None = None, prefetch: int | None = None, max_attempts: int | None = None,
                 retry_base_ms: int | None = None):
        conf = consumer_settings()
        self.service = service or service_name()
        self.handlers = checked_handlers(handlers) if handlers is not None else load_handlers()
        self.url = url or rabbitmq_url()
        self.prefetch = prefetch or conf["PREFETCH"]
        self.max_attempts = max_attempts or conf["MAX_ATTEMPTS"]
        self.retry_base_ms = retry_base_ms or conf["RETRY_BASE_MS"]
        self.names = QueueNames(self.service)
        self.handled = 0
        self.parked = 0
        self.database_waits = 0  # looks at a database that did not answer
        metrics.start_at_zero((metrics.EVENTS_HANDLED, metrics.EVENTS_RETRIED, metrics.EVENTS_PARKED,
                               metrics.INBOX_DUPLICATES), self.handlers)
        self.ready = threading.Event()  # set once the topology is declared and consuming has begun
        self._db = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="consumer-db")

    def retry_delay_ms(self, attempt: int) -> int:
        """How long a message that failed its ``attempt``-th time waits before the next one."""
        return self.retry_base_ms * 2 ** (attempt - 1)

    async def declare(self, channel: aio_pika.abc.AbstractChannel):
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(self.names.main, durable=True, arguments={"x-queue-type": "quorum"})
        for event_type in sorted(self.handlers):
            await queue.bind(exchange, routing_key=event_type)
        # Declared after the bindings: its existence tells `wait_for_topology` that the bindings are in place.
        await channel.declare_queue(self.names.dead, durable=True)
        for attempt in range(1, self.max_attempts):
            await channel.declare_queue(self.names.retry(attempt), durable=True, arguments={
                "x-message-ttl": self.retry_delay_ms(attempt),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.names.main,
            })
        return queue

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; reconnects with back-off whenever the broker goes away."""
        backoff = 0.2
        connected_before = False
        try:
            while not stop.is_set():
                # Take no message before the database answers: one taken now could only be given back.
                if not await self._wait_for_database(stop):
                    break
                try:
                    connection = await aio_pika.connect(self.url, timeout=5)
                except BROKER_ERRORS as exc:
                    log.warning("consumer cannot reach the broker", error=str(exc), retry_in=backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                try:
                    async with connection:
                        channel = await connection.channel(publisher_confirms=True)
                        await channel.set_qos(prefetch_count=self.prefetch)
                        queue = await self.declare(channel)
                        backoff = 0.2
                        log.info("consumer ready", queue=self.names.main, types=sorted(self.handlers))
                        if connected_before:  # the first connection is no reconnect
                            metrics.BROKER_RECONNECTS.inc()
                        connected_before = True
                        lost = asyncio.Event()
                        connection.close_callbacks.add(lambda *_: lost.set())
                        await self._consume(queue, channel, stop, lost=lost.wait())
                except DatabaseAway as exc:
                    # Leaving `async with connection` closed it: the broker puts the message in hand and the
                    # prefetched ones back in the queue as they were (attempts unchanged), for any replica.
                    self.ready.clear()
                    log.warning("database unavailable: the consumer gave its messages back and waits for it",
                                error=str(exc))
                except BROKER_ERRORS as exc:
                    log.warning("consumer lost the broker", error=str(exc))
                    self.ready.clear()
                    await sleep_or_stop(stop, backoff)
        finally:
            await asyncio.get_running_loop().run_in_executor(self._db, connections.close_all)
            self._db.shutdown(wait=True)

    async def _consume(self, queue, channel, stop: asyncio.Event, lost) -> None:
        async with queue.iterator() as messages:
            self.ready.set()
            stopper = asyncio.ensure_future(stop.wait())
            lost = asyncio.ensure_future(lost)
            try:
                while True:
                    getter = asyncio.ensure_future(messages.__anext__())
                    await asyncio.wait({getter, stopper, lost}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        if lost.done():
                            # the iterator would wait forever on a dead connection: reconnect instead
                            raise ConnectionError("broker connection closed")
                        return  # stop requested while idle; unacked prefetched messages return to the queue
                    try:
                        message = getter.result()
                    except StopAsyncIteration:
                        raise ConnectionError("the queue iterator ended: channel closed") from None
                    # the message in hand is finished even when a stop arrived meanwhile
                    await self.process(message, channel)
                    if stop.is_set():
                        return
            finally:
                stopper.cancel()
                lost.cancel()

    async def process(self, message: aio_pika.abc.AbstractIncomingMessage, channel) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        try:
            event = parse_event(message.body)
        except InvalidEvent as exc:
            # A malformed message will never succeed: park it at once, with the reason.
            await self._park(message, channel, f"invalid event: {exc}", attempt)
            return
        if event.source != owner_source(event.type):  # not from the type's owner: forged or misrouted, park it
            await self._park(message, channel, f"{event.type} comes from {owner_source(event.type)}, "
                                               f"not {event.source}", attempt)
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            await self._park(message, channel, f"no handler for {event.type}", attempt)
            return
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            applied = await loop.run_in_executor(self._db, self._apply_in_thread, event, handler)
        except EventRefused as exc:
            # The handler says no retry can help: park it now, with its reason, for a person to look at.
            await self._park(message, channel, f"refused: {exc}", attempt)
            return
        except Exception as exc:  # noqa: BLE001 - any other failure may pass: retried, then parked, logged
            if isinstance(exc, DATABASE_UNAVAILABLE) and not await self._database_answers():
                # An outage is no fault of the event: raised out of the consuming loop, which gives back this
                # message and the prefetched ones uncounted, and waits for the database before taking more.
                raise DatabaseAway(f"{event.type} {event.id}: {exc!r}") from exc
            # Anything else — a deadlock victim or a lock timeout of a database that answers included — counts.
            log.warning("handler failed", event_type=event.type, event_id=event.id, attempt=attempt,
                        error=repr(exc), correlation_id=event.correlationid)
            if attempt >= self.max_attempts:
                await self._park(message, channel, repr(exc), attempt)
            else:
                await self._retry(message, channel, attempt)
                metrics.EVENTS_RETRIED.labels(event.type).inc()
            return
        await message.ack()
        metrics.HANDLER_LATENCY.labels(event.type).observe(time.perf_counter() - started)
        metrics.EVENTS_HANDLED.labels(event.type).inc()
        if not applied:
            metrics.INBOX_DUPLICATES.labels(event.type).inc()
        self.handled += 1
        log.info("event handled" if applied else "event already handled", event_type=event.type,
                 event_id=event.id, correlation_id=event.correlationid)

    async def _database_answers(self) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._db, database_answers, InboxRecord)

    async def _wait_for_database(self, stop: asyncio.Event) -> bool:
        """Return once the database answers (True), or when ``stop`` is set first (False)."""
        pause = 0.25
        while not await self._database_answers():
            self.database_waits += 1
            log.warning("consumer waits for its database", retry_in=pause)
            await sleep_or_stop(stop, pause)
            if stop.is_set():
                return False
            pause = min(pause * 2, DATABASE_WAIT_MAX)
        return True

    def _apply_in_thread(self, event: Event, handler: Handler) -> bool:
        close_old_connections()
        try:
            return apply_event(event, handler)
        finally:
            close_old_connections()

    async def _retry(self, message, channel, attempt: int) -> None:
        # Republish (confirmed) to a retry queue, then ack: if we die in between, the original is redelivered
        # and the inbox absorbs whichever copy comes second.
        await channel.default_exchange.publish(
            _copy(message, {ATTEMPT_HEADER: attempt + 1}), routing_key=self.names.retry(attempt), mandatory=False)
        await message.ack()

    async def _park(self, message, channel, error: str, attempt: int) -> None:
        log.error("event parked", queue=self.names.dead, error=error, attempts=attempt,
                  message_id=message.message_id, event_type=message.type)
        await channel.default_exchange.publish(
            _copy(message, {
                "x-shop-error": error[:2000],
                "x-shop-attempts": attempt,
                "x-shop-parked-at": datetime.now(timezone.utc).isoformat(),
                "x-shop-routing-key": message.type or message.routing_key or "",
            }),
            routing_key=self.names.dead, mandatory=False)
        await message.ack()
        self.parked += 1
        metrics.EVENTS_PARKED.labels(message.type or "<invalid>").inc()


def _copy(message, headers: dict) -> aio_pika.Message:
    return aio_pika.Message(
        body=message.body,
        content_type=message.content_type,
        message_id=message.message_id,
        type=message.type,
        headers={**(message.headers or {}), **headers},
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
