"""Running the messaging loops as processes: signal handling, interruptible sleeps and the health endpoint."""
import asyncio
import os
import signal
import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, connections, router

from shopkit.conf import env_float
from shopkit.logging import get_logger
from shopkit.messaging.probes import DEFAULT_STALE_SECONDS, HEARTBEAT_SECONDS, HealthServer

log = get_logger(__name__)

# What drivers raise when the database is away — but also when a server that is up refuses one statement
# (a deadlock victim, a lock wait timeout, a missing table on SQLite). Which of the two it was, only asking
# the database tells: see database_answers().
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_answers(model) -> bool:
    """Whether a new connection of this thread can query ``model``'s table now.

    The thread's connection is replaced first: a connection the server dropped would fail however healthy the
    server is, and one kept open would answer although no new one could be made."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    try:
        connection.close()
        model._default_manager.using(alias).filter(pk__isnull=True).exists()
        return True
    except DATABASE_UNAVAILABLE:
        try:
            connection.close()
        except DATABASE_UNAVAILABLE:
            pass
        return False


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep for ``seconds``, or less if ``stop`` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


def health_server(ready: threading.Event | None) -> HealthServer | None:
    """The worker's health endpoint on ``SHOP_HEALTH_PORT`` (containers set it), or None when it is unset."""
    raw = os.environ.get("SHOP_HEALTH_PORT", "")
    if not raw:
        return None
    try:
        port = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"environment variable SHOP_HEALTH_PORT must be a port, got {raw!r}") from None
    return HealthServer(port, ready=ready.is_set if ready is not None else None,
                        host=os.environ.get("SHOP_HEALTH_HOST") or "0.0.0.0",  # `make up`: the loopback only
                        stale_after=env_float("SHOP_HEALTH_STALE_SECONDS", DEFAULT_STALE_SECONDS))


async def _heartbeat(health: HealthServer) -> None:
    while True:  # beats only while the loop runs callbacks: a blocked loop goes silent, and /healthz says so
        health.beat()
        await asyncio.sleep(HEARTBEAT_SECONDS)


def run_until_signalled(make_coroutine, *, ready: threading.Event | None = None) -> None:
    """Run ``make_coroutine(stop)`` until it returns; SIGTERM and SIGINT set ``stop`` so it can finish cleanly.

    ``ready`` is the worker's own "connected and running" flag (anything with ``is_set()``: the worker's is every
    loop's at once); with ``SHOP_HEALTH_PORT`` set it backs /readyz.
    """

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        health = health_server(ready)
        beating = None
        if health is not None:
            health.start()
            beating = asyncio.create_task(_heartbeat(health))
            log.info("health endpoint listening", port=health.port)
        try:
            await make_coroutine(stop)
        finally:
            if beating is not None:
                beating.cancel()
                health.stop()

    asyncio.run(main())
