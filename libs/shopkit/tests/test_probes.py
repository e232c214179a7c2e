"""The worker health endpoint: the server on its own (unit), and a real relay process that answers the probes."""
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from shopkit.messaging.probes import HealthServer
from shopkit.testing import wait_until

SHOPKIT = Path(__file__).resolve().parent.parent


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(clock):
    flags = {"ready": False}
    health = HealthServer(0, host="127.0.0.1", ready=lambda: flags["ready"], stale_after=10, clock=clock).start()
    health.flags = flags
    yield health
    health.stop()


def test_alive_but_not_ready_until_the_worker_says_so(server):
    assert get(server.port, "/healthz") == (200, {"status": "ok"})
    status, body = get(server.port, "/readyz")
    assert status == 503 and "not connected" in body["failures"][0]
    server.flags["ready"] = True
    assert get(server.port, "/readyz") == (200, {"status": "ok"})


def test_a_silent_event_loop_fails_both_probes_until_it_beats_again(server, clock):
    server.flags["ready"] = True
    clock.now += 11
    status, body = get(server.port, "/healthz")
    assert status == 503 and "no heartbeat for 11s" in body["failures"][0]
    assert get(server.port, "/readyz")[0] == 503
    server.beat()
    assert get(server.port, "/healthz")[0] == 200
    assert get(server.port, "/readyz")[0] == 200


def test_a_failing_readiness_check_is_reported_not_raised(clock):
    def broken():
        raise RuntimeError("boom")

    health = HealthServer(0, host="127.0.0.1", ready=broken, clock=clock).start()
    try:
        status, body = get(health.port, "/readyz")
        assert status == 503 and "boom" in body["failures"][0]
        assert get(health.port, "/nothing")[0] == 404
    finally:
        health.stop()


# --- a real worker process ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def django_admin(env: dict, *args: str, **kwargs):
    return [sys.executable, "-m", "django", *args, "--settings=tests.settings"], dict(cwd=SHOPKIT, env=env, **kwargs)


@pytest.fixture
def worker_env(tmp_path):
    """The environment of a relay process of this test's own (its own SQLite file, migrated)."""
    env = {**os.environ, "PYTHONPATH": str(SHOPKIT), "SHOPKIT_TEST_RUN": f"probe{uuid.uuid4().hex[:8]}",
           "SHOP_DATA_DIR": str(tmp_path), "SHOP_HEALTH_PORT": str(free_port())}
    env.pop("SHOPKIT_TEST_DATABASE_URL", None)  # SQLite: the probes do not depend on the database kind
    argv, kwargs = django_admin(env, "migrate", "--noinput")
    subprocess.run(argv, check=True, capture_output=True, **kwargs)
    return env


def run_relay(env: dict):
    argv, kwargs = django_admin(env, "outbox_relay")
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def stop(process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return output


def test_a_relay_process_answers_both_probes_once_connected_and_stops_cleanly(worker_env, rabbitmq_url):
    port = int(worker_env["SHOP_HEALTH_PORT"])
    process = run_relay({**worker_env, "RABBITMQ_URL": rabbitmq_url})
    try:
        wait_until(lambda: get(port, "/readyz")[0] == 200, timeout=30, what="the relay's /readyz")
        assert get(port, "/healthz") == (200, {"status": "ok"})
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert get(port, "/healthz")[0] == 0  # the endpoint went away with the process


def test_a_relay_that_cannot_reach_the_broker_is_alive_but_not_ready(worker_env):
    port = int(worker_env["SHOP_HEALTH_PORT"])
    nobody = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"  # a closed port: connecting is refused
    process = run_relay({**worker_env, "RABBITMQ_URL": nobody})
    try:
        wait_until(lambda: get(port, "/healthz")[0] == 200, timeout=30, what="the relay's /healthz")
        status, body = get(port, "/readyz")
        assert status == 503 and "not connected" in body["failures"][0]
    finally:
        output = stop(process)
    assert process.returncode == 0, output
