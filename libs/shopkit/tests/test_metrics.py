"""shopkit.metrics: the HTTP middleware by route template, `/metrics` with the outbox's backlog read at scrape time,
the pipeline's counters moving against the real broker, and gunicorn's per-master multiprocess folder."""
import importlib
import os
from datetime import timedelta
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
        wait_until(lambda: notes("ok") == 1 and consumer.parked == 1)
        duplicate = build_event(kind, {"user_id": "ok2", "email": "o@example.com", "name": "O"}, source="/shop/x")
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
        monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
        importlib.reload(shopkit.gunicorn_conf)
