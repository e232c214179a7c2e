"""Metrics end to end: every process of the e2e shop answers /metrics on its own port and its pipeline counters
move through one order's saga; the gateway never serves /metrics or the services' internal paths; Prometheus
(started by the launcher) scrapes every target, and every metric of the Grafana dashboard exists in its scrape."""
from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from client import wait_for

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy"))
sys.path.insert(0, str(REPO / "deploy" / "grafana"))
import check as dashboards  # noqa: E402  (deploy/grafana/check.py)
import topology  # noqa: E402

SHOP = topology.load()


def processes(base: int) -> dict[str, int]:
    """Every process `make up` runs for the shop, name → its metrics port, as deploy/topology.toml declares them: the
    web instances, and each service's one worker (its consumer, relay and sender loops together)."""
    found = {}
    for service in SHOP.services:
        for index, port in enumerate(service.local_web_ports(base), start=1):
            found[f"{service.name}-web-{index}"] = port
        worker = SHOP.local_worker(service)
        if worker is not None:
            found[worker.name] = worker.port(base)
    return found


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) → value from one process's /metrics."""
    status, text = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, text[:500]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: dict, name: str, **labels) -> float:
    return sum(v for (n, found), v in samples.items()
               if n == name and all(dict(found).get(k) == want for k, want in labels.items()))


@pytest.fixture(scope="module")
def ports(shop) -> dict[str, int]:
    return processes(int(shop.env["SHOP_PORT_BASE"]))


def test_every_process_answers_metrics_and_the_saga_moves_the_pipeline_counters(
        shop, ports, customer, make_product, place_order, order_status):
    assert len(ports) == sum(s.local_web_instances + 1 for s in SHOP.services)  # every service runs a relay
    before = {name: scrape(port) for name, port in ports.items()}
    _, token = customer
    product = make_product(stock=3)
    order = place_order(token, [{"product_id": product["id"], "quantity": 1}])
    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the order to be confirmed")

    def moved(name: str, metric: str, **labels) -> float:
        return total(scrape(ports[name]), metric, **labels) - total(before[name], metric, **labels)

    # each hop of the saga, in the process that did it
    expected = [
        ("order-worker", "shop_events_published_total", {"type": "order.placed"}),
        ("product-worker", "shop_events_handled_total", {"type": "order.placed"}),
        ("product-worker", "shop_event_handler_duration_seconds_count", {"type": "order.placed"}),
        ("product-worker", "shop_events_published_total", {"type": "stock.reserved"}),
        ("order-worker", "shop_events_handled_total", {"type": "stock.reserved"}),
        ("order-worker", "shop_order_confirmation_seconds_count", {}),
        ("order-worker", "shop_events_published_total", {"type": "order.confirmed"}),
        ("email-worker", "shop_events_handled_total", {"type": "order.confirmed"}),
        ("email-worker", "shop_emails_sent_total", {"email_kind": "order_confirmed"}),
    ]
    for name, metric, labels in expected:
        wait_for(lambda: moved(name, metric, **labels) >= 1, what=f"{metric}{labels} to move in {name}")
    placed = sum(moved(name, "shop_http_requests_total", method="POST", route="/api/v1/orders/", status="201")
                 for name in ports if name.startswith("order-web-"))
    assert placed >= 1  # the POST, counted by route template in whichever order-web answered it
    orders = scrape(ports["order-web-1"])
    assert total(orders, "shop_orders", status="confirmed") >= 1
    assert ("shop_outbox_pending", ()) in orders and ("shop_orders_oldest_pending_age_seconds", ()) in orders
    assert total(scrape(ports["email-worker"]), "shop_smtp_send_duration_seconds_count") >= 1


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/readyz", "/stub_status"])
def test_the_gateway_answers_404_for_internal_paths(gateway, path):
    response = gateway.get(path)
    assert response.status == 404, response
    assert b"shop_http_requests_total" not in response.body and b"Active connections" not in response.body


def prometheus(shop, path: str, **params) -> dict:
    port = int(shop.env["SHOP_PORT_BASE"]) + SHOP.monitoring["local_prometheus_offset"]
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    status, text = get(f"http://127.0.0.1:{port}{path}{query}")
    assert status == 200, text[:500]
    return json.loads(text)["data"]


def test_prometheus_scrapes_every_target_and_the_dashboards_metrics_exist(shop, ports):
    def all_up():
        targets = prometheus(shop, "/api/v1/targets")["activeTargets"]
        health = {(t["labels"]["job"], t["labels"].get("process", t["labels"]["instance"])): t["health"]
                  for t in targets}
        return health if health and all(h == "up" for h in health.values()) else None
    health = wait_for(all_up, timeout=60, interval=1, what="every Prometheus target to be up")
    jobs = defaultdict(set)
    for job, name in health:
        jobs[job].add(name)
    assert jobs["shop"] == set(ports)
    assert {"rabbitmq", "rabbitmq-queues", "gateway", "prometheus"} <= set(jobs)

    wanted = set().union(*(dashboards.dashboard_metrics(dashboards.load(p)) for p in dashboards.DASHBOARDS))

    def missing():
        known = set(prometheus(shop, "/api/v1/label/__name__/values"))
        return wanted - known
    wait_for(lambda: not missing(), timeout=60, interval=2, what="every dashboard metric in Prometheus")
    # the alert rules are loaded, and none is broken
    groups = prometheus(shop, "/api/v1/rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules} >= {"OutboxLagging", "MessageParked", "TargetDown", "OrdersStuckPending"}
    assert all(r["health"] == "ok" for r in rules), [r for r in rules if r["health"] != "ok"]
