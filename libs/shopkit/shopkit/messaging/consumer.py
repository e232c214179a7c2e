"""The consumer runner: declares a service's topology and applies each event once, with its inbox record.

Topology of service ``svc`` (all durable):
  ``shop.events`` (topic) ─ bindings from the handler table ─► ``svc.events`` (quorum queue)
  ``svc.events.retry.N`` (TTL base·2^(N-1), dead-letters back to ``svc.events``): a failed message waits here
  ``svc.events.dead``: a message that failed MAX_ATTEMPTS times, or can never succeed, is parked here with
  its error, until ``manage.py parked_replay`` puts it back.

The deliveries at hand (up to BATCH_SIZE; a batch is never waited for) are applied in delivery order in one
database transaction, each with its inbox record, and acked after the commit, so a redelivered event has no
second effect and one hop to the database thread and one commit serve the whole batch. When one of them fails,
that transaction rolls back and the batch is applied again one transaction per event, except the one that
failed: it alone is retried or parked, with its own attempt count (see ``apply_batch``). On SIGTERM the batch
in hand is finished and acked, then it exits.

A database error is the event's failure (counted, retried, parked) unless the database does not answer a new
connection: then it is an outage, and the consumer gives back every message it holds, uncounted, and takes
none until its database answers again — other replicas carry on meanwhile, and nothing waits behind it.
"""
import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import aio_pika
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone as django_timezone

from shopkit import metrics
from shopkit.context import correlated
from shopkit.envelope import Event, parse_event
from shopkit.events import InvalidEvent, owner_source
from shopkit.logging import get_logger
from shopkit.messaging.config import EXCHANGE, QueueNames, consumer_settings, rabbitmq_url, service_name
from shopkit.messaging.handling import EventRefused, Handler, checked_handlers, load_handlers
from shopkit.messaging.runtime import DATABASE_UNAVAILABLE, database_answers, sleep_or_stop
from shopkit.messaging.models import InboxRecord
from shopkit.statements import insert_sql

log = get_logger(__name__)

BROKER_ERRORS = (aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError, ConnectionError,
                 OSError, asyncio.TimeoutError)
ATTEMPT_HEADER = "x-shop-attempt"
DATABASE_WAIT_MAX = 5.0  # seconds between two looks at a database that is away
INBOX_ID_MAX_LENGTH = InboxRecord._meta.get_field("event_id").max_length
INBOX_COLUMNS = ("event_id", "handler", "event_type", "processed_at")


class DatabaseAway(Exception):
    """The consumer's database does not answer: the messages in hand go back to the queue."""


def apply_event(event: Event, handler: Handler) -> bool:
    """Run ``handler`` for ``event`` once: in one transaction with its inbox record.

    Returns False when the inbox shows it was already applied (a redelivery), True when it ran now.
    Whatever the handler raises propagates, and the transaction — inbox record included — rolls back: an
    EventRefused (it can never succeed) is parked at once by the consumer, anything else is retried.
    """
    with transaction.atomic():
        return _apply(event, handler)


def _apply(event: Event, handler: Handler) -> bool:
    # Inside the caller's transaction: the inbox row and the handler's effect commit or roll back together.
    with correlated(event.correlationid or None):
        if not record_in_inbox(event, handler.name):  # declared name: a rename of the function changes nothing
            return False
        handler(event)
        return True


def record_in_inbox(event: Event, name: str) -> bool:
    """Write the inbox row of (``event``, handler ``name``) in one statement; False when it is there already.

    A concurrent transaction inserting the same row makes this one wait on the unique key until it ends: if
    it commits, this insert does nothing (False, no second effect); if it rolls back, this one inserts.
    """
    if connection.vendor == "mysql" and len(event.id) > INBOX_ID_MAX_LENGTH:
        # INSERT IGNORE would store it truncated (a warning, not an error) and confuse two long ids
        raise EventRefused(f"event id longer than the inbox's {INBOX_ID_MAX_LENGTH} characters")
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(InboxRecord, INBOX_COLUMNS, connection.vendor, ignore_conflict=True), [
            event.id, name, event.type, connection.ops.adapt_datetimefield_value(django_timezone.now())])
        return cursor.rowcount == 1


@dataclass(frozen=True)
class Applied:
    """One event of a batch, applied now (``ran``) or found in the inbox; ``seconds``: its handling, with its
    share of the batch's commit."""

    ran: bool
    seconds: float


GIVEN_BACK = object()  # the outcome of an event not tried because the database went away: it goes back, uncounted


def apply_batch(items: Sequence[tuple[Event, Handler]]) -> list:
    """Apply ``items`` in order, each once with its inbox record, in one transaction when all succeed.

    Returns one outcome per item: Applied, the exception it raised (to retry or park it), or GIVEN_BACK.
    When one raises, the whole transaction rolls back — whatever the error did to it (a MySQL deadlock ends the
    transaction, a PostgreSQL error aborts it) — and every other item is applied again in a transaction of its
    own, while the failed one keeps its exception without running again: it is retried or parked alone, with
    one attempt counted, and no other item's effect is lost or doubled. Raises DatabaseAway when the failure
    was the database going away before anything committed.
    """
    results: list = []
    failed_at = None  # index of the item that raised; None: the transaction itself (begin or commit) failed
    try:
        with transaction.atomic():
            for index, (event, handler) in enumerate(items):
                failed_at = index
                began = time.perf_counter()
                ran = _apply(event, handler)
                results.append((ran, time.perf_counter() - began))
            failed_at = None
            committing = time.perf_counter()
    except Exception as exc:  # noqa: BLE001 - sorted out below: the event's failure, or the database's
        if _database_went_away(exc):
            raise DatabaseAway(f"batch of {len(items)}: {exc!r}") from exc
        return _apply_one_by_one(items, failed_at, exc)
    commit_share = (time.perf_counter() - committing) / len(items)
    return [Applied(ran, seconds + commit_share) for ran, seconds in results]


def _apply_one_by_one(items: Sequence[tuple[Event, Handler]], failed_at: int | None, failure: Exception) -> list:
    outcomes: list = []
    for index, (event, handler) in enumerate(items):
        if index == failed_at:
            outcomes.append(failure)  # it ran once in this delivery already: its attempt is counted, not repeated
            continue
        began = time.perf_counter()
        try:
            outcomes.append(Applied(apply_event(event, handler), time.perf_counter() - began))
        except Exception as exc:  # noqa: BLE001 - this event's failure, retried or parked by the consumer
            if _database_went_away(exc):
                return outcomes + [GIVEN_BACK] * (len(items) - index)
            outcomes.append(exc)
    return outcomes


def _database_went_away(exc: Exception) -> bool:
    # Runs on the consumer's database thread: database_answers replaces this thread's connection.
    return isinstance(exc, DATABASE_UNAVAILABLE) and not database_answers(InboxRecord)


class Consumer:
    def __init__(self, *, service: str | None = None, handlers: dict[str, Handler] | None = None,
                 url: str | None = None, prefetch: int | None = None, max_attempts: int | None = None,
                 retry_base_ms: int | None = None, batch_size: int | None = None):
        conf = consumer_settings()
        self.service = service or service_name()
        self.handlers = checked_handlers(handlers) if handlers is not None else load_handlers()
        self.url = url or rabbitmq_url()
        self.prefetch = prefetch or conf["PREFETCH"]
        self.batch_size = batch_size or conf["BATCH_SIZE"]
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
        deliveries: asyncio.Queue = asyncio.Queue()  # in delivery order: the broker's callback tasks run FIFO
        await queue.consume(deliveries.put)
        self.ready.set()
        stopper = asyncio.ensure_future(stop.wait())
        lost = asyncio.ensure_future(lost)
        channel_closed = asyncio.ensure_future(channel.closed())  # e.g. closed by the broker over a channel error
        try:
            while True:
                getter = asyncio.ensure_future(deliveries.get())
                await asyncio.wait({getter, stopper, lost, channel_closed}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    if lost.done() or channel_closed.done():
                        # nothing more would arrive on a dead connection or channel: reconnect instead
                        raise ConnectionError("broker connection or channel closed")
                    return  # stop requested while idle; unacked prefetched messages return to the queue
                batch = [getter.result()]
                while len(batch) < self.batch_size and not deliveries.empty():
                    batch.append(deliveries.get_nowait())  # what is at hand now: a batch is never waited for
                # the batch in hand is finished even when a stop arrived meanwhile
                await self.process_batch(batch, channel)
                if stop.is_set():
                    return
        finally:
            stopper.cancel()
            lost.cancel()
            channel_closed.cancel()

    async def process_batch(self, messages: list[aio_pika.abc.AbstractIncomingMessage], channel) -> None:
        """Apply ``messages`` (in delivery order) in one hop to the database thread, then ack them after commit.

        A message that can never apply (invalid, forged, no handler) is parked first; the others are applied by
        ``apply_batch``, and each that failed is retried or parked alone before the rest are acked together.
        """
        work = []  # (message, event, handler, attempt)
        for message in messages:
            attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
            try:
                event = parse_event(message.body)
            except InvalidEvent as exc:
                # A malformed message will never succeed: park it at once, with the reason.
                await self._park(message, channel, f"invalid event: {exc}", attempt)
                continue
            if event.source != owner_source(event.type):  # not from the type's owner: forged or misrouted
                await self._park(message, channel, f"{event.type} comes from {owner_source(event.type)}, "
                                                   f"not {event.source}", attempt)
                continue
            handler = self.handlers.get(event.type)
            if handler is None:
                await self._park(message, channel, f"no handler for {event.type}", attempt)
                continue
            work.append((message, event, handler, attempt))
        if not work:
            return
        # An outage (DatabaseAway) is no fault of the events: raised out of the consuming loop, which gives back
        # this batch and the prefetched messages uncounted, and waits for the database before taking more.
        outcomes = await asyncio.get_running_loop().run_in_executor(
            self._db, self._apply_in_thread, [(event, handler) for _, event, handler, _ in work])
        settled = []  # (message, event, Applied): acked together below
        for (message, event, _, attempt), outcome in zip(work, outcomes):
            if outcome is GIVEN_BACK:
                continue
            if isinstance(outcome, Applied):
                settled.append((message, event, outcome))
            elif isinstance(outcome, EventRefused):
                # The handler says no retry can help: park it now, with its reason, for a person to look at.
                await self._park(message, channel, f"refused: {outcome}", attempt)
            else:
                # Anything else — a deadlock victim or a lock timeout of a database that answers included — counts.
                log.warning("handler failed", event_type=event.type, event_id=event.id, attempt=attempt,
                            error=repr(outcome), correlation_id=event.correlationid)
                if attempt >= self.max_attempts:
                    await self._park(message, channel, repr(outcome), attempt)
                else:
                    await self._retry(message, channel, attempt)
                    metrics.EVENTS_RETRIED.labels(event.type).inc()
        await _ack_all([message for message, _, _ in settled], given_back=GIVEN_BACK in outcomes)
        for _, event, applied in settled:
            metrics.HANDLER_LATENCY.labels(event.type).observe(applied.seconds)
            metrics.EVENTS_HANDLED.labels(event.type).inc()
            if not applied.ran:
                metrics.INBOX_DUPLICATES.labels(event.type).inc()
            self.handled += 1
            log.info("event handled" if applied.ran else "event already handled", event_type=event.type,
                     event_id=event.id, correlation_id=event.correlationid)
        if GIVEN_BACK in outcomes:
            raise DatabaseAway(f"the database went away after {len(settled)} of a batch of {len(work)}")

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

    def _apply_in_thread(self, items: list[tuple[Event, Handler]]) -> list:
        close_old_connections()
        try:
            return apply_batch(items)
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


async def _ack_all(messages: list, *, given_back: bool) -> None:
    """Ack ``messages``, which are in delivery order on one channel: with one ``multiple`` ack of the last when
    nothing before it may stay unacked (every earlier delivery is acked, parked or in this list)."""
    pending = [message for message in messages if not message.processed]
    if not pending:
        return
    if given_back:  # deliveries after the database went away go back: ack exactly these, one by one
        for message in pending:
            await message.ack()
        return
    await pending[-1].ack(multiple=True)


def _copy(message, headers: dict) -> aio_pika.Message:
    return aio_pika.Message(
        body=message.body,
        content_type=message.content_type,
        message_id=message.message_id,
        type=message.type,
        headers={**(message.headers or {}), **headers},
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
