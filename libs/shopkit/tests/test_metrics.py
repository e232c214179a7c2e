"""shopkit.metrics: the HTTP middleware by route template, `/metrics` with the outbox's backlog read at scrape time,
the pipeline's counters moving against the real broker, and gunicorn's per-master multiprocess folder."""
import importlib
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

import shopkit.gunicorn_conf
from shopkit import events, metrics
from shopkit.envelope import build_event
from shopkit.messaging.consumer import Consumer
from shopkit.messaging.probes import HealthServer
from shopkit.messaging.runtime import health_server
from shopkit.messaging.models import OutboxMessage
from shopkit.messaging.outbox import emit
from shopkit.messaging.relay import Relay
from shopkit.testing import running, wait_until
from tests.kitapp.models import Failure
from tests.test_messaging import notes, publish_raw, register, service  # noqa: F401 - service is a fixture


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(response.content.decode())}


def test_requests_are_counted_by_route_template_not_path(client):
    before = value("shop_http_requests_total", method="GET", route="/healthz", status="200")
    unmatched = value("shop_http_requests_total", method="GET", route=metrics.UNMATCHED_ROUTE, status="404")
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/path/123").status_code == 404
    assert value("shop_http_requests_total", method="GET", route="/healthz", status="200") == before + 1
    assert value("shop_http_requests_total", method="GET", route=metrics.UNMATCHED_ROUTE, status="404") == unmatched + 1
    assert value("shop_http_request_duration_seconds_count", method="GET", route="/healthz") >= 1


def test_a_failing_view_is_counted_as_a_500_under_its_route(client):
    client.raise_request_exception = False
    before = value("shop_http_requests_total", method="GET", route="/crash/<int:n>", status="500")
    assert client.get("/crash/7").status_code == 500
    assert client.get("/crash/8").status_code == 500
    assert value("shop_http_requests_total", method="GET", route="/crash/<int:n>", status="500") == before + 2


@pytest.mark.django_db(transaction=True)
def test_metrics_reads_the_outbox_backlog_at_scrape_time(client):
    found = scrape(client)
    assert [s.value for s in found["shop_outbox_pending"]] == [0]
    assert [s.value for s in found["shop_outbox_oldest_pending_age_seconds"]] == [0]
    with transaction.atomic():
        emit(events.USER_REGISTERED, {"user_id": "m1", "email": "m1@example.com", "name": "M"}, subject="m1")
        emit(events.USER_REGISTERED, {"user_id": "m2", "email": "m2@example.com", "name": "M"}, subject="m2")
    OutboxMessage.objects.filter(subject="m1").update(created_at=timezone.now() - timedelta(minutes=5))
    found = scrape(client)
    assert [s.value for s in found["shop_outbox_pending"]] == [2]
    assert found["shop_outbox_oldest_pending_age_seconds"][0].value >= 300
    assert {s.labels["collector"]: s.value for s in found["shop_scrape_collector_up"]}["outbox"] == 1
    assert "shop_http_requests" in found  # the process's own counters are there too


@pytest.mark.django_db(transaction=True)
def test_a_failing_collector_is_reported_down_and_the_scrape_still_answers(client):
    def broken():
        raise RuntimeError("database away")

    metrics.register_scrape_collector("broken", broken)
    try:
        found = scrape(client)
    finally:
        metrics._scrape_collectors.pop("broken")
    up = {s.labels["collector"]: s.value for s in found["shop_scrape_collector_up"]}
    assert up == {"outbox": 1, "broken": 0}


@pytest.mark.django_db(transaction=True)
def test_the_pipeline_counters_move(service, broker, settings):
    kind = events.USER_REGISTERED
    before = {name: value(name, type=kind) for name in (
        "shop_events_published_total", "shop_events_handled_total", "shop_events_retried_total",
        "shop_events_parked_total", "shop_inbox_duplicates_total", "shop_event_handler_duration_seconds_count")}
    Failure.objects.create(key="poison")
    with running(Consumer()) as consumer, running(Relay()):
        register("ok")
        register("poison")
        wait_until(lambda: notes("ok") == 1, what="ok handled")
        wait_until(lambda: consumer.parked == 1, what="poison parked")
        duplicate = build_event(kind, {"user_id": "ok2", "email": "o@example.com", "name": "O"},
                                source=f"/shop/{service}")
        handled = consumer.handled
        publish_raw(broker, duplicate.to_json(), kind, duplicate.id)
        publish_raw(broker, duplicate.to_json(), kind, duplicate.id)
        wait_until(lambda: consumer.handled == handled + 2)
    moved = {name: value(name, type=kind) - was for name, was in before.items()}
    assert moved == {
        "shop_events_published_total": 2,
        "shop_events_handled_total": 3,  # ok, and the duplicate's two copies
        "shop_events_retried_total": settings.SHOPKIT_CONSUMER["MAX_ATTEMPTS"] - 1,
        "shop_events_parked_total": 1,
        "shop_inbox_duplicates_total": 1,
        "shop_event_handler_duration_seconds_count": 3,
    }


def test_gunicorn_gives_each_master_its_own_emptied_folder_and_forgets_dead_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_PROCESS_NAME", "order-web-2")
    monkeypatch.delenv("SHOP_METRICS_DIR", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    conf = importlib.reload(shopkit.gunicorn_conf)
    folder = tmp_path / "run" / "metrics" / "order-web-2"
    folder.mkdir(parents=True)
    (folder / "counter_123.db").write_bytes(b"left by a killed run")
    try:
        conf.on_starting(server=None)
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
        assert list(folder.iterdir()) == []
        (folder / "gauge_liveall_77.db").write_bytes(b"")
        (folder / "counter_77.db").write_bytes(b"")
        conf.child_exit(server=None, worker=SimpleNamespace(pid=77))
        assert sorted(p.name for p in folder.iterdir()) == ["counter_77.db"]  # counts stay, live gauges go
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # set by on_starting itself, not through monkeypatch
        importlib.reload(shopkit.gunicorn_conf)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_under_gunicorn_metrics_adds_up_every_worker_and_keeps_a_dead_workers_counts(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path), "SHOP_WEB_WORKERS": "3", "SHOP_PROCESS_NAME": "kit-web",
           "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    folder = tmp_path / "run" / "metrics" / "kit-web"
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "tests.wsgi:application", "--config",
                                 "python:shopkit.gunicorn_conf", "--bind", f"127.0.0.1:{port}"],
                                cwd=Path(__file__).resolve().parents[1], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        def healthz_count() -> float:
            status, text = _get(f"{url}/metrics")
            assert status == 200, text[-3000:]  # the error page says what failed
            return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                       if s.name == "shop_http_requests_total" and s.labels["route"] == "/healthz")

        def answers() -> bool:
            try:
                return _get(f"{url}/healthz")[0] == 200
            except OSError:
                return False
        wait_until(answers, timeout=60, what="gunicorn to answer")
        # a worker still starting may finish a request the client gave up on: count from a quiet moment
        wait_until(lambda: healthz_count() == healthz_count(), timeout=30, what="a stable count")
        before = healthz_count()
        for _ in range(40):
            assert _get(f"{url}/healthz")[0] == 200
        # whichever worker answered each request, and whichever answers the scrape, the sum is the same
        assert healthz_count() == before + 40
        pids = {int(p.stem.rsplit("_", 1)[1]) for p in folder.glob("counter_*.db")}
        assert pids, "the workers count in files in the master's own folder"
        for pid in pids:  # the workers die (gunicorn starts new ones): what they counted stays
            os.kill(pid, signal.SIGKILL)
        wait_until(answers, timeout=60, what="new workers to answer")  # the listening socket is the master's
        assert healthz_count() == before + 40 + 1
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def test_a_worker_serves_its_own_counters_on_its_health_endpoint():
    metrics.EVENTS_PUBLISHED.labels("worker.test").inc()
    server = HealthServer(0, host="127.0.0.1").start()
    try:
        status, text = _get(f"http://127.0.0.1:{server.port}/metrics")
        assert _get(f"http://127.0.0.1:{server.port}/healthz")[0] == 200  # the probes answer as before
    finally:
        server.stop()
    assert status == 200
    samples = {(s.name, s.labels.get("type")): s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("shop_events_published_total", "worker.test")] >= 1
    assert "shop_outbox_pending" not in {name for name, _ in samples}  # the web processes read the outbox


def test_the_health_endpoint_listens_where_shop_health_host_says(monkeypatch):
    monkeypatch.setenv("SHOP_HEALTH_HOST", "127.0.0.1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SHOP_HEALTH_PORT", str(port))
    server = health_server(None)
    try:
        assert server._httpd.server_address[0] == "127.0.0.1"
    finally:
        server._httpd.server_close()
