"""The order service's metrics: orders by status and the oldest pending one at every scrape of /metrics, and the
placed → confirmed histogram observed once per confirmation, after its commit."""
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shopkit import events
from shopkit.envelope import build_event
from shopkit.messaging.consumer import apply_event

from orders import constants
from orders.handlers import HANDLERS
from orders.models import Order

pytestmark = pytest.mark.django_db


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, s.labels.get("status")): s.value
            for f in text_string_to_metric_families(response.content.decode()) for s in f.samples}


def reserved(order):
    return build_event(events.STOCK_RESERVED, {
        "order_id": str(order.id),
        "items": [{"product_id": line.product_id, "quantity": line.quantity} for line in order.lines.all()]},
        source="/shop/product", subject=str(order.id))


def test_metrics_counts_orders_by_status_and_ages_the_oldest_pending(client, place):
    found = scrape(client)
    assert {s: found[("shop_orders", s)] for s in constants.STATUSES} == dict.fromkeys(constants.STATUSES, 0)
    assert found[("shop_orders_oldest_pending_age_seconds", None)] == 0
    first, second = place(), place()
    Order.objects.filter(id=first.id).update(created_at=timezone.now() - timedelta(minutes=20))
    apply_event(reserved(second), HANDLERS[events.STOCK_RESERVED])
    found = scrape(client)
    assert (found[("shop_orders", "pending")], found[("shop_orders", "confirmed")]) == (1, 1)
    assert found[("shop_orders_oldest_pending_age_seconds", None)] >= 20 * 60
    up = [s for f in text_string_to_metric_families(client.get("/metrics").content.decode()) for s in f.samples
          if s.name == "shop_scrape_collector_up"]
    assert {s.labels["collector"]: s.value for s in up} == {"outbox": 1, "orders": 1}


def test_a_confirmation_is_timed_once_after_its_commit(place, django_capture_on_commit_callbacks):
    count = REGISTRY.get_sample_value("shop_order_confirmation_seconds_count") or 0
    order = place()
    event = reserved(order)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apply_event(event, HANDLERS[events.STOCK_RESERVED])
    assert len(callbacks) >= 1
    assert REGISTRY.get_sample_value("shop_order_confirmation_seconds_count") == count + 1
    with django_capture_on_commit_callbacks(execute=True):
        apply_event(reserved(order), HANDLERS[events.STOCK_RESERVED])  # late news: already confirmed
    assert REGISTRY.get_sample_value("shop_order_confirmation_seconds_count") == count + 1
