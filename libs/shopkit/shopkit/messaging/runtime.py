"""Running the messaging loops as processes: signal handling and interruptible sleeps."""
import asyncio
import signal

from django.db import InterfaceError, OperationalError

# The database is away, or a lock wait timed out: no fault of the event in hand. The relay and the consumer
# wait and try again instead of counting it against the event (or crashing and being restarted).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


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
