"""One worker process running one or more of a service's messaging loops (consumer, relay, and loops the service
registers, such as email's sender) together on one asyncio event loop, behind one health endpoint.

Every worker command goes through here: `manage.py run_worker consumer relay [sender]` (what `make up` runs, one
per service) and the single-loop aliases `consume_events`, `outbox_relay` and `send_emails` (one container per
loop in compose and Kubernetes). A loop is any object with ``async run(stop)`` that returns once ``stop`` is set,
and a ``ready`` flag (``threading.Event``). The process:

- is ready (``/readyz`` on ``SHOP_HEALTH_PORT``, and the log line ``worker ready``) only while every loop is;
- stops every loop cleanly on SIGTERM or SIGINT (each finishes the message or batch in hand);
- ends when one loop ends on its own (it raised, or returned without being asked): the others are stopped
  cleanly, then the process exits non-zero, so the supervisor restarts a whole worker rather than leaving a
  half-alive one whose health endpoint still answers for the loops that run.

Loops are named in one table: shopkit's own (``consumer``, ``relay``) plus the service's ``SHOPKIT_WORKER_LOOPS``
setting (name → dotted path of a class built without arguments); shopkit knows no business.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from shopkit.logging import get_logger
from shopkit.messaging.runtime import run_until_signalled

log = get_logger(__name__)

# shopkit's own loops; a service adds its own with the SHOPKIT_WORKER_LOOPS setting
LOOPS = {"consumer": "shopkit.messaging.consumer.Consumer", "relay": "shopkit.messaging.relay.Relay"}
READY_POLL_SECONDS = 0.1  # how often the "every loop ready" log line is looked for; /readyz asks each time


class Loop(Protocol):
    ready: threading.Event

    async def run(self, stop: asyncio.Event) -> None: ...


class LoopEnded(RuntimeError):
    """A loop returned although nobody asked it to stop: the worker ends with it (the supervisor restarts it)."""


def loop_table() -> dict[str, str]:
    """Loop name → dotted path of its class: shopkit's, then the service's SHOPKIT_WORKER_LOOPS."""
    return {**LOOPS, **getattr(settings, "SHOPKIT_WORKER_LOOPS", {})}


def build_loops(names: Iterable[str]) -> dict[str, Loop]:
    """The named loops, built in order; raises ImproperlyConfigured for a name not in `loop_table()` or one
    named twice."""
    table = loop_table()
    names = list(names)
    unknown = [name for name in names if name not in table]
    if unknown or not names:
        raise ImproperlyConfigured(f"unknown worker loop(s) {unknown}: this service runs {sorted(table)}"
                                   if unknown else "name at least one worker loop")
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"a worker loop is named twice: {names}")
    return {name: import_string(table[name])() for name in names}


class AllReady:
    """Ready while every one of the loops is (what /readyz asks)."""

    def __init__(self, loops: Mapping[str, Loop]):
        self.loops = loops

    def is_set(self) -> bool:
        return all(loop.ready.is_set() for loop in self.loops.values())

    def waiting_for(self) -> list[str]:
        return [name for name, loop in self.loops.items() if not loop.ready.is_set()]


async def run_loops(loops: Mapping[str, Loop], stop: asyncio.Event) -> None:
    """Run every loop until ``stop`` is set. When one ends first (raising, or returning unasked), ``stop`` is set
    so the others finish what they hold, and then its exception (or LoopEnded) is raised."""
    tasks = {asyncio.create_task(loop.run(stop), name=f"worker-{name}"): name for name, loop in loops.items()}
    announcing = asyncio.create_task(_announce_ready(AllReady(loops), stop))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        failure: BaseException | None = None
        if not stop.is_set():
            first = next(iter(done))
            name = tasks[first]
            failure = first.exception() if not first.cancelled() else asyncio.CancelledError()
            failure = failure or LoopEnded(f"the {name} loop returned without being asked to stop")
            log.error("worker loop ended: stopping the others", loop=name, error=repr(failure))
            stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results):
            if isinstance(result, BaseException) and result is not failure:
                log.error("worker loop failed while stopping", loop=tasks[task], error=repr(result))
        if failure is not None:
            raise failure
    finally:
        announcing.cancel()


async def _announce_ready(ready: AllReady, stop: asyncio.Event) -> None:
    while not stop.is_set() and not ready.is_set():
        await asyncio.sleep(READY_POLL_SECONDS)
    if ready.is_set():
        log.info("worker ready", loops=sorted(ready.loops))


def run_worker(loops: Mapping[str, Loop]) -> None:
    """Run ``loops`` in this process until SIGTERM/SIGINT (see the module's docstring); with SHOP_HEALTH_PORT set,
    one /healthz, /readyz and /metrics endpoint answers for all of them. Raises what a failed loop raised."""
    log.info("worker starting", loops=list(loops))
    run_until_signalled(lambda stop: run_loops(loops, stop), ready=AllReady(loops))
