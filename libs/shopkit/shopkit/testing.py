"""Test helpers: a throwaway RSA key that services' tests trust, and access tokens minted with it."""
import os
import subprocess
import time
import uuid
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shopkit import defaults

TEST_KID = "test-key"


def test_private_key(kid: str = TEST_KID):
    """The private key for ``kid``, made once per process (the same object however it is asked for)."""
    return _private_key(kid)


@lru_cache(maxsize=None)
def _private_key(kid: str):
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_public_pem(kid: str = TEST_KID) -> str:
    return test_private_key(kid).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def jwt_test_settings(kid: str = TEST_KID) -> dict:
    """A SHOPKIT_JWT setting that trusts only the test key (pass to override_settings)."""
    return {"PUBLIC_KEYS": {kid: test_public_pem(kid)}, "JWKS_URL": "", "KEY_LOADER": "",
            "ISSUER": defaults.JWT["ISSUER"], "AUDIENCE": defaults.JWT["AUDIENCE"]}


def make_token(*, role: str = "customer", user_id: str | None = None, email: str | None = None,
               name: str = "Test User", kid: str = TEST_KID, lifetime: int = 900, **overrides) -> str:
    """An RS256 access token as identity would issue it; ``overrides`` replace or add claims."""
    now = int(time.time())
    user_id = user_id or str(uuid.uuid4())
    claims = {
        "sub": user_id,
        "email": email or f"{user_id[:8]}@example.com",
        "name": name,
        "role": role,
        "iss": defaults.JWT["ISSUER"],
        "aud": defaults.JWT["AUDIENCE"],
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        "typ": "access",
    }
    claims.update(overrides)
    return jwt.encode(claims, test_private_key(kid), algorithm="RS256", headers={"kid": kid})


def auth_header(**kwargs) -> dict:
    """Keyword arguments for Django's test client: ``client.get(url, **auth_header(role='staff'))``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(**kwargs)}"}


class running:
    """Run a relay or consumer (anything with ``async run(stop)``) on its own thread and event loop.

    ``with running(Consumer(...)) as consumer: ...`` — stopped, and its thread joined, on exit.
    """

    def __init__(self, worker):
        self.worker = worker
        self._loop = None
        self._stop = None
        self._thread = None
        self.error: BaseException | None = None

    def __enter__(self):
        import asyncio
        import threading

        started = threading.Event()

        def main():
            async def go():
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                started.set()
                await self.worker.run(self._stop)

            try:
                asyncio.run(go())
            except BaseException as exc:  # noqa: BLE001 - surfaced to the test on exit
                self.error = exc
                started.set()
            finally:
                from django.db import connections

                connections.close_all()

        self._thread = threading.Thread(target=main, name=f"test-{type(self.worker).__name__}", daemon=True)
        self._thread.start()
        started.wait(10)
        ready = getattr(self.worker, "ready", None)
        if ready is not None and not ready.wait(20):
            raise RuntimeError(f"{type(self.worker).__name__} did not become ready: {self.error!r}")
        return self.worker

    def stop(self):
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._thread.is_alive():
            raise RuntimeError(f"{type(self.worker).__name__} did not stop within 30 s")

    def __exit__(self, *exc_info):
        self.stop()
        if self.error is not None and exc_info[0] is None:
            raise self.error


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, what: str = ""):
    """Poll ``predicate`` until it returns something truthy; return that, or fail the test after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


def rabbitmqctl(*args: str) -> None:
    """Run ``rabbitmqctl -q …`` against the local broker (tests and benchmarks run as its administrator)."""
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@contextmanager
def throwaway_vhost(prefix: str = "shoptest"):
    """A RabbitMQ vhost of its own, for the user of ``$RABBITMQ_URL``; yields its URL, deletes it after.

    Tests and benchmarks publish there, never on the vhost a developer's running shop listens on.
    """
    parts = urlsplit(os.environ.get("RABBITMQ_URL", defaults.RABBITMQ_URL))
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
        yield urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, ""))
    finally:
        rabbitmqctl("delete_vhost", vhost)


def publish_events(url: str, *events_) -> None:
    """Publish events as another service's relay would: persistent, to the topic exchange, routed by type."""
    import asyncio

    import aio_pika

    from shopkit.messaging.config import EXCHANGE

    async def send():
        connection = await aio_pika.connect(url, timeout=5)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
            for event in events_:
                await exchange.publish(
                    aio_pika.Message(body=event.to_json(), message_id=event.id, type=event.type,
                                     content_type="application/cloudevents+json",
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=event.type)

    asyncio.run(send())


class EventTap:
    """A queue of the test's own bound to the exchange: what a service published, as another service sees it.

    ``with EventTap(url, "order.*") as tap: … tap.received()`` — each call returns the events (parsed) that
    arrived since the last one; the queue is deleted on exit.
    """

    def __init__(self, url: str, *routing_keys: str):
        self.url = url
        self.routing_keys = routing_keys or ("#",)
        self.queue = f"tap-{uuid.uuid4().hex[:12]}"
        self.seen: list = []

    def _run(self, work):
        import asyncio

        import aio_pika

        async def go():
            connection = await aio_pika.connect(self.url, timeout=5)
            async with connection:
                return await work(await connection.channel(), aio_pika)
        return asyncio.run(go())

    def __enter__(self):
        from shopkit.messaging.config import EXCHANGE

        async def bind(channel, aio_pika):
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
            queue = await channel.declare_queue(self.queue, durable=False)
            for key in self.routing_keys:
                await queue.bind(exchange, routing_key=key)
        self._run(bind)
        return self

    def __exit__(self, *exc):
        async def delete(channel, aio_pika):
            await channel.queue_delete(self.queue)
        self._run(delete)

    def received(self) -> list:
        """Every event that arrived so far, oldest first (``Event`` objects)."""
        from shopkit.envelope import parse_event

        async def drain(channel, aio_pika):
            queue = await channel.declare_queue(self.queue, durable=False, passive=True)
            bodies = []
            while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
                bodies.append(message.body)
            return bodies
        self.seen.extend(parse_event(body) for body in self._run(drain))
        return list(self.seen)

    def of(self, event_type: str, subject: str | None = None) -> list:
        return [e for e in self.received() if e.type == event_type and (subject is None or e.subject == subject)]


def outbox_events(event_type: str | None = None, subject=None) -> list[dict]:
    """The events a test wrote to the outbox, oldest first, as their CloudEvents envelopes (only those of
    ``event_type`` and ``subject`` when given)."""
    import json

    from shopkit.messaging.models import OutboxMessage

    rows = OutboxMessage.objects.order_by("id")
    if event_type:
        rows = rows.filter(event_type=event_type)
    if subject is not None:
        rows = rows.filter(subject=str(subject))
    return [json.loads(row.body) for row in rows]
