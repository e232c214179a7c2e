"""The shop's Prometheus metrics, defined once: the families, the HTTP middleware, scrape-time collectors, `/metrics`.

Every process of every service exposes the same families; Prometheus adds the `service`, `kind` and `process`
labels from its scrape targets (deploy/local/launcher/monitoring.py), so the counters here carry only what varies
inside one process, and never a label of those names.

- Web processes (gunicorn, several worker processes per master) count in multiprocess mode: `gunicorn_conf` gives
  each master its own ``PROMETHEUS_MULTIPROC_DIR`` before any worker imports this module, and marks dead workers.
  Their `/metrics` (``shopkit.health``) merges every worker's files, plus the scrape-time collectors.
- Workers (relay, consumer, sender) are one process each and count in memory; their health endpoint on
  ``SHOP_HEALTH_PORT`` (``shopkit.messaging.probes``) serves `/metrics` too.
- Scrape-time collectors read the database when Prometheus asks (the outbox's backlog here; a service adds its
  own with ``register_scrape_collector``, e.g. orders by status), so no process has to keep a gauge up to date.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from shopkit.logging import get_logger

log = get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED_ROUTE = "<unmatched>"  # a 404 from the resolver: one series, whatever paths scanners try

# --- HTTP (the middleware below) -------------------------------------------------------------------------------
HTTP_REQUESTS = Counter("shop_http_requests_total", "HTTP requests answered, by route template and status",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("shop_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
                         ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

# --- the pipeline: outbox → relay → broker → consumer ------------------------------------------------------------
EVENTS_PUBLISHED = Counter("shop_events_published_total", "Events the relay published and the broker confirmed",
                           ["type"])
EVENTS_HANDLED = Counter("shop_events_handled_total", "Events a consumer applied (or found already applied)",
                         ["type"])
EVENTS_RETRIED = Counter("shop_events_retried_total", "Deliveries sent to a retry queue after a failure", ["type"])
EVENTS_PARKED = Counter("shop_events_parked_total", "Messages parked in the service's dead queue", ["type"])
INBOX_DUPLICATES = Counter("shop_inbox_duplicates_total", "Redelivered events the inbox absorbed (no second effect)",
                           ["type"])
HANDLER_LATENCY = Histogram("shop_event_handler_duration_seconds", "Time to apply one event, transaction included",
                            ["type"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
BROKER_RECONNECTS = Counter("shop_broker_reconnects_total",
                            "Connections to the broker opened after the first (the broker went away)")

# --- email ---------------------------------------------------------------------------------------------------------
EMAILS_SENT = Counter("shop_emails_sent_total", "Emails the SMTP server accepted", ["email_kind"])
EMAILS_FAILED = Counter("shop_emails_failed_total", "Emails given up on (refused, or out of attempts)",
                        ["email_kind"])
SMTP_LATENCY = Histogram("shop_smtp_send_duration_seconds", "Time to hand one email to the SMTP server",
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

# --- orders ----------------------------------------------------------------------------------------------------------
ORDER_CONFIRMATION = Histogram("shop_order_confirmation_seconds", "From an order placed to it confirmed",
                               buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0))


def start_at_zero(counters: Iterable[Counter], values: Iterable[str]) -> None:
    """Create each labelled series at 0 (one label): a parked or failed kind shows as 0 before its first one, so
    dashboards and increase() see it from the start, not only after it happened."""
    values = list(values)
    for counter in counters:
        for value in values:
            counter.labels(value)


# --- scrape-time collectors --------------------------------------------------------------------------------------------
ScrapeCollector = Callable[[], Iterable[Metric]]
_scrape_collectors: dict[str, ScrapeCollector] = {}


def register_scrape_collector(name: str, collect: ScrapeCollector) -> None:
    """Have ``collect()`` run at every scrape of this process's web `/metrics` (idempotent per ``name``)."""
    _scrape_collectors[name] = collect


class _ScrapeTime:
    """Runs the registered collectors; one that fails (its database away) is skipped and reported as down, so the
    rest of the scrape still answers."""

    def collect(self):
        up = GaugeMetricFamily("shop_scrape_collector_up", "1 when a scrape-time collector could read its source",
                               labels=["collector"])
        for name, collect in list(_scrape_collectors.items()):
            try:
                families = list(collect())
            except Exception as exc:  # noqa: BLE001 - a scrape must answer; the failure is logged and counted
                log.warning("metrics collector failed", collector=name, error=repr(exc))
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def multiprocess_dir() -> str:
    return os.environ.get(MULTIPROC_ENV, "")


def registry(*, scrape_time: bool) -> CollectorRegistry:
    """What one scrape of this process reads: every worker's files under gunicorn, else this process's own
    counters; plus the scrape-time collectors when asked (web processes)."""
    found = CollectorRegistry()  # registering asks no collector for its metrics (auto_describe is off)
    if multiprocess_dir():
        MultiProcessCollector(found)
    else:
        found.register(_Default())
    if scrape_time:
        found.register(_ScrapeTime())
    return found


class _Default:
    """The process's default registry (its counters, and the process and platform collectors) as one collector."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition(*, scrape_time: bool) -> tuple[bytes, str]:
    """The text Prometheus reads, and its content type."""
    return generate_latest(registry(scrape_time=scrape_time)), CONTENT_TYPE_LATEST


def metrics_view(request):
    """`GET /metrics` of a web process. Only on the service's own port: the gateway answers 404 for it."""
    from django.http import HttpResponse

    body, content_type = exposition(scrape_time=True)
    return HttpResponse(body, content_type=content_type)


# --- the HTTP middleware -----------------------------------------------------------------------------------------------
def route_of(request) -> str:
    """The route template that answered (``api/v1/orders/<uuid:order_id>/``), never the raw path: one series per
    route, whatever the ids."""
    match = getattr(request, "resolver_match", None)
    if match is None or not getattr(match, "route", None):
        return UNMATCHED_ROUTE
    return "/" + match.route.lstrip("^").rstrip("$")


class MetricsMiddleware:
    """Counts every request by method, route template and status, and times it. Outermost, so the time includes
    the other middleware; the inner layers have already turned any exception into a response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in HTTP_METHODS else "OTHER"
        route = route_of(request)
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
        return response


# --- the outbox's backlog, read at scrape time -------------------------------------------------------------------------
def outbox_backlog() -> Iterable[Metric]:
    """Events committed but not yet published, and the age of the oldest: the pipeline's lag on the write side."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from shopkit.messaging.models import OutboxMessage

    found = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(pending=Count("id"), oldest=Min("created_at"))
    pending = GaugeMetricFamily("shop_outbox_pending", "Events in the outbox not yet published")
    pending.add_metric([], found["pending"])
    age = GaugeMetricFamily("shop_outbox_oldest_pending_age_seconds",
                            "Age of the oldest unpublished event in the outbox (0 when none waits)")
    age.add_metric([], (timezone.now() - found["oldest"]).total_seconds() if found["oldest"] else 0.0)
    return [pending, age]
