"""The outbox relay: publishes committed events to RabbitMQ in order, with publisher confirms.

A row is marked sent only after the broker confirmed it. If the broker is away the rows wait, and the relay
reconnects with back-off and carries on where it stopped. The relay is woken by a datagram after each commit
(see ``outbox.ring_doorbell``) and polls as a fallback.

Several replicas may run against PostgreSQL or MySQL: each batch is published while holding the lease row
(``SELECT … FOR UPDATE SKIP LOCKED``), so one replica publishes at a time and order is kept; the others stand by.
"""
import asyncio
import concurrent.futures
import os
import socket
import threading
import time
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

import aio_pika
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone

from shopkit import metrics
from shopkit.envelope import CONTENT_TYPE
from shopkit.logging import get_logger
from shopkit.messaging.config import EXCHANGE, outbox_settings, rabbitmq_url
from shopkit.messaging.runtime import DATABASE_UNAVAILABLE, sleep_or_stop
from shopkit.messaging.models import OutboxMessage, RelayLease
from shopkit.messaging.outbox import doorbell_dir
from shopkit.statements import converted_rows, for_update, select_columns

log = get_logger(__name__)

LEASE = "relay"
PUBLISH_TIMEOUT = 10.0  # seconds to wait for a batch's confirms before treating the connection as lost
BROKER_ERRORS = (aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError, ConnectionError,
                 OSError, asyncio.TimeoutError, concurrent.futures.TimeoutError)


class PublishFailed(Exception):
    """The broker refused (nacked) or did not confirm a message in time."""


class Relay:
    def __init__(self, *, url: str | None = None, batch_size: int | None = None, poll_seconds: float | None = None):
        conf = outbox_settings()
        self.url = url or rabbitmq_url()
        self.batch_size = batch_size or conf["BATCH_SIZE"]
        self.poll_seconds = poll_seconds if poll_seconds is not None else conf["POLL_SECONDS"]
        self.retention = timedelta(hours=conf["RETENTION_HOURS"])
        self.published = 0
        self._db = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exchange = None
        self._wake: asyncio.Event | None = None
        self._last_prune = 0.0
        self.ready = threading.Event()  # set while connected to the broker

    # --- the loop -------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set, reconnecting to the broker as often as needed."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        sock = await self._run_db(self._open_doorbell)
        await self._run_db(ensure_lease)
        self._loop.add_reader(sock.fileno(), self._on_doorbell, sock)
        backoff = 0.2
        connected_before = False
        try:
            while not stop.is_set():
                try:
                    connection_ = await aio_pika.connect(self.url, timeout=5)
                except BROKER_ERRORS as exc:
                    log.warning("relay cannot reach the broker", error=str(exc), retry_in=backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                log.info("relay connected")
                if connected_before:  # the first connection is no reconnect
                    metrics.BROKER_RECONNECTS.inc()
                connected_before = True
                try:
                    async with connection_:
                        channel = await connection_.channel(publisher_confirms=True)
                        self._exchange = await channel.declare_exchange(
                            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
                        backoff = 0.2
                        self.ready.set()
                        await self._publish_until_stopped(stop)
                except BROKER_ERRORS + (PublishFailed,) as exc:
                    log.warning("relay lost the broker", error=str(exc))
                    await sleep_or_stop(stop, backoff)
                finally:
                    self._exchange = None
                    self.ready.clear()
        finally:
            self._loop.remove_reader(sock.fileno())
            await self._run_db(self._close_doorbell, sock)
            await self._run_db(connections.close_all)  # the DB thread's own connection
            self._db.shutdown(wait=True)

    async def _publish_until_stopped(self, stop: asyncio.Event) -> None:
        db_backoff = 0.0
        while not stop.is_set():
            self._wake.clear()
            try:
                count = await self._run_db(self.publish_pending)
                if count < self.batch_size and time.monotonic() - self._last_prune > 600:
                    await self._run_db(self.prune)
            except DATABASE_UNAVAILABLE as exc:
                # The rows are safe where they are; wait for the database rather than crash-loop.
                db_backoff = min(db_backoff * 2 or 0.25, 5.0)
                log.warning("relay cannot read the outbox", error=repr(exc), retry_in=db_backoff)
                await sleep_or_stop(stop, db_backoff)
                continue
            db_backoff = 0.0
            if count == self.batch_size:
                continue  # more are waiting
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()

    def _on_doorbell(self, sock) -> None:
        try:
            while sock.recv(64):
                pass
        except BlockingIOError:
            pass
        self._wake.set()

    async def _run_db(self, fn, *args):
        return await self._loop.run_in_executor(self._db, fn, *args)

    # --- database side (runs in the relay's DB thread) -----------------------------------------------
    def publish_pending(self) -> int:
        """Publish one batch of pending rows in id order; return how many went out."""
        close_old_connections()
        if connection.features.has_select_for_update_skip_locked:
            with transaction.atomic():
                if not self._take_lease():
                    return 0  # another replica is publishing
                rows = list(self._pending())
                if rows:
                    self._publish_rows(rows)
                    self.mark_sent([row.id for row in rows])
        else:
            # SQLite: a write transaction would lock out the web processes while waiting for confirms, so
            # read, publish, then mark in a short transaction. (One relay per SQLite file; see README.)
            rows = list(self._pending())
            if rows:
                self._publish_rows(rows)
                with transaction.atomic():
                    self.mark_sent([row.id for row in rows])
        self.published += len(rows)
        return len(rows)

    # The relay's three statements run once per batch, and a busy shop's batches are small (a doorbell per
    # commit): spelled out once per database, they cost a fraction of what the ORM spends compiling them.
    def _take_lease(self) -> bool:
        """Lock the lease row, skipping it when another replica holds it; whether this one got it."""
        with connection.cursor() as cursor:
            cursor.execute(_lease_sql(connection.vendor), [LEASE])
            return cursor.fetchone() is not None

    def _pending(self) -> list["PendingRow"]:
        with connection.cursor() as cursor:
            cursor.execute(_pending_sql(connection.vendor), [self.batch_size])
            return [PendingRow(id_, str(event_id), event_type, body)
                    for id_, event_id, event_type, body in converted_rows(_PENDING_FIELDS, cursor.fetchall())]

    def _publish_rows(self, rows) -> None:
        future = asyncio.run_coroutine_threadsafe(self._publish(rows), self._loop)
        future.result(timeout=PUBLISH_TIMEOUT + 1)

    def mark_sent(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(_mark_sent_sql(connection.vendor, len(ids)),
                           [connection.ops.adapt_datetimefield_value(timezone.now()), *ids])

    def prune(self) -> int:
        close_old_connections()
        self._last_prune = time.monotonic()
        cutoff = timezone.now() - self.retention
        deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
        return deleted

    # --- broker side (runs on the event loop) ---------------------------------------------------------
    async def _publish(self, rows) -> None:
        exchange = self._exchange
        if exchange is None:
            raise PublishFailed("not connected")
        # All messages of the batch are in flight at once and confirmed together (a window of batch_size);
        # the channel's lock sends them in the order the tasks were created, which is id order.
        confirms = [
            exchange.publish(
                aio_pika.Message(
                    body=row.body.encode(),
                    content_type=CONTENT_TYPE,
                    message_id=str(row.event_id),
                    type=row.event_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=row.event_type,
                mandatory=False,
                timeout=PUBLISH_TIMEOUT,
            )
            for row in rows
        ]
        results = await asyncio.gather(*confirms, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise PublishFailed(f"{len(failures)} of {len(rows)} not confirmed: {failures[0]!r}")
        # Unroutable messages are confirmed too: an event nobody subscribes to yet is not an error.
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(row.event_type).inc()

    # --- the doorbell -------------------------------------------------------------------------------------
    def _open_doorbell(self):
        path = doorbell_dir() / f"relay-{os.getpid()}-{threading.get_ident()}.sock"
        path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.setblocking(False)
        self._doorbell_path = path
        return sock

    def _close_doorbell(self, sock) -> None:
        sock.close()
        self._doorbell_path.unlink(missing_ok=True)


class PendingRow(NamedTuple):
    """An outbox row waiting to be published: what goes on the wire."""

    id: int
    event_id: str  # the canonical text form, as the event's envelope has it
    event_type: str
    body: str


# What a pending row is read as: these fields' columns, through the backend's converters (shopkit.statements)
_PENDING = ("id", "event_id", "event_type", "body")
_PENDING_FIELDS = tuple(OutboxMessage._meta.get_field(name) for name in _PENDING)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@lru_cache(maxsize=8)
def _lease_sql(vendor: str) -> str:
    table = connection.ops.quote_name(RelayLease._meta.db_table)
    return (f"SELECT {select_columns(RelayLease, ('name',))} FROM {table} WHERE {_column(RelayLease, 'name')} = %s"
            f"{for_update(skip_locked=True)}")


@lru_cache(maxsize=8)
def _pending_sql(vendor: str) -> str:
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    return (f"SELECT {select_columns(OutboxMessage, _PENDING)} FROM {table} "
            f"WHERE {_column(OutboxMessage, 'sent_at')} IS NULL ORDER BY {_column(OutboxMessage, 'id')} LIMIT %s")


@lru_cache(maxsize=64)
def _mark_sent_sql(vendor: str, count: int) -> str:
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    return (f"UPDATE {table} SET {_column(OutboxMessage, 'sent_at')} = %s "
            f"WHERE {_column(OutboxMessage, 'id')} IN ({', '.join(['%s'] * count)})")


def ensure_lease() -> None:
    """Make sure the lease row exists (the migration creates it; a flushed test database may not have it)."""
    close_old_connections()
    RelayLease.objects.get_or_create(name=LEASE)
