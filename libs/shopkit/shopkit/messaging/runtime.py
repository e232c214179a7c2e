"""Running the messaging loops as processes: signal handling and interruptible sleeps."""
import asyncio
import signal

from django.db import InterfaceError, OperationalError, connections, router

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


def run_until_signalled(make_coroutine) -> None:
    """Run ``make_coroutine(stop)`` until it returns; SIGTERM and SIGINT set ``stop`` so it can finish cleanly."""

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await make_coroutine(stop)

    asyncio.run(main())
