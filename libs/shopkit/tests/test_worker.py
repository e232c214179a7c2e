"""One worker process running several messaging loops (shopkit.messaging.worker): readiness over all of them,
a clean stop of every loop, and one failing loop ending the whole process — in an event loop (unit) and as real
`manage.py run_worker` processes against the broker."""
import asyncio
import subprocess
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from shopkit.messaging.consumer import Consumer
from shopkit.messaging.relay import Relay
from shopkit.messaging.worker import READY_POLL_SECONDS, AllReady, LoopEnded, build_loops, loop_table, run_loops
from shopkit.testing import wait_until
from tests.kitapp.loops import Loop as ProjectLoop
from tests.test_probes import django_admin, get, stop, worker_env  # noqa: F401  (worker_env: a fixture)


class FakeLoop:
    """Ready after ``ready_after`` s; then waits for stop, or raises ``fails`` / returns after ``ends_after`` s."""

    def __init__(self, *, ready_after=0.0, fails=None, ends_after=None):
        self.ready = threading.Event()
        self.ready_after, self.fails, self.ends_after = ready_after, fails, ends_after
        self.stopped_cleanly = False

    async def run(self, stop):
        await asyncio.sleep(self.ready_after)
        self.ready.set()
        if self.ends_after is not None:
            await asyncio.sleep(self.ends_after)
            if self.fails:
                raise self.fails
            return
        await stop.wait()
        self.stopped_cleanly = True


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=10))


def test_every_loop_runs_until_stop_and_each_finishes_cleanly():
    loops = {"a": FakeLoop(), "b": FakeLoop(ready_after=0.05)}

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(run_loops(loops, stop))
        while not AllReady(loops).is_set():
            await asyncio.sleep(0.01)
        stop.set()
        await running

    run(scenario())
    assert all(loop.stopped_cleanly for loop in loops.values())


def test_one_loop_raising_stops_the_others_cleanly_and_the_error_ends_the_worker():
    boom = RuntimeError("boom")
    loops = {"consumer": FakeLoop(), "relay": FakeLoop(ends_after=0.05, fails=boom), "sender": FakeLoop()}
    with pytest.raises(RuntimeError) as raised:
        run(run_loops(loops, asyncio.Event()))
    assert raised.value is boom
    assert loops["consumer"].stopped_cleanly and loops["sender"].stopped_cleanly


def test_a_loop_returning_unasked_ends_the_worker_too():
    loops = {"consumer": FakeLoop(), "relay": FakeLoop(ends_after=0.05)}
    with pytest.raises(LoopEnded, match="relay"):
        run(run_loops(loops, asyncio.Event()))
    assert loops["consumer"].stopped_cleanly


def test_ready_only_while_every_loop_is():
    loops = {"consumer": FakeLoop(), "relay": FakeLoop()}
    ready = AllReady(loops)
    loops["consumer"].ready.set()
    assert not ready.is_set() and ready.waiting_for() == ["relay"]
    loops["relay"].ready.set()
    assert ready.is_set()
    loops["consumer"].ready.clear()  # e.g. the consumer lost the broker
    assert not ready.is_set()


def test_loops_come_from_shopkit_and_the_services_own_table(settings):
    assert set(loop_table()) == {"consumer", "relay", "testloop"}
    built = build_loops(["relay", "consumer", "testloop"])
    assert list(built) == ["relay", "consumer", "testloop"]
    assert isinstance(built["relay"], Relay) and isinstance(built["consumer"], Consumer)
    assert isinstance(built["testloop"], ProjectLoop)
    with pytest.raises(ImproperlyConfigured, match="sender"):
        build_loops(["consumer", "sender"])
    with pytest.raises(ImproperlyConfigured, match="twice"):
        build_loops(["relay", "relay"])


# --- real processes ----------------------------------------------------------------------------------------
def run_worker(env: dict, *loops: str):
    argv, kwargs = django_admin(env, "run_worker", *loops)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def test_a_consumer_and_relay_in_one_process_are_ready_together_and_stop_on_sigterm(worker_env, rabbitmq_url):
    port = int(worker_env["SHOP_HEALTH_PORT"])
    process = run_worker({**worker_env, "RABBITMQ_URL": rabbitmq_url}, "consumer", "relay")
    try:
        wait_until(lambda: get(port, "/readyz")[0] == 200, timeout=30, what="the worker's /readyz")
        time.sleep(3 * READY_POLL_SECONDS)  # its own "worker ready" line follows within one poll
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    for line in ("consumer ready", "relay connected", "worker ready"):
        assert line in output, output


def test_a_failing_loop_ends_the_process_with_an_error_after_stopping_the_others(worker_env, rabbitmq_url):
    port = int(worker_env["SHOP_HEALTH_PORT"])
    process = run_worker({**worker_env, "RABBITMQ_URL": rabbitmq_url, "KITTEST_LOOP_FAILS_AFTER": "3"},
                         "relay", "testloop")
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            output = stop(process)
    assert process.returncode != 0, output
    assert "worker loop ended" in output and "failed on purpose" in output, output
    assert get(port, "/healthz")[0] == 0  # nothing half-alive answers for it


def test_an_unknown_loop_is_refused_before_anything_starts(worker_env):
    argv, kwargs = django_admin(worker_env, "run_worker", "consumer", "sender")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kwargs)
    assert done.returncode != 0 and "sender" in done.stderr and "testloop" in done.stderr
