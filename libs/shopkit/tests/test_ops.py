"""The ops API (shopkit.ops) on the real broker: status, parked messages listed, replayed once fixed, discarded."""
import json
import logging
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction

from shopkit import events
from shopkit.conf import parse_service_urls
from shopkit.envelope import build_event
from shopkit.messaging.consumer import Consumer
from shopkit.messaging.outbox import emit
from shopkit.testing import auth_header, running, wait_until
from tests.kitapp.models import Failure, Note
from tests.test_messaging import publish_raw

pytestmark = pytest.mark.django_db(transaction=True)

STAFF = auth_header(role="staff", email="ops@example.com", name="Ops")
CUSTOMER = auth_header(role="customer")


@pytest.fixture
def service(settings, broker, request):
    """A service of this test's own (its own queues), with the ops routes mounted under its name."""
    name = f"ops{abs(hash(request.node.name)) % 10**8}"
    settings.SHOPKIT_SERVICE = name
    settings.SHOPKIT_OPS = {"SERVICES": {}}
    urlconf = types.ModuleType(f"ops_urls_{name}")
    from tests import urls
    urlconf.urlpatterns = urls.urlpatterns_with_ops()
    urlconf.handler404 = urls.handler404
    sys.modules[urlconf.__name__] = urlconf
    settings.ROOT_URLCONF = urlconf.__name__
    yield name
    sys.modules.pop(urlconf.__name__, None)


def user_registered(user_id: str) -> bytes:
    return build_event(events.USER_REGISTERED, {"user_id": user_id, "email": f"{user_id}@example.com", "name": "A"},
                       source="/shop/identity", subject=user_id, correlation_id=f"corr-{user_id}").to_json()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(str(record.msg))


@pytest.fixture
def ops_log():
    """What shopkit.ops logs during the test, one string per record (a plain handler: no log plugin needed)."""
    logger = logging.getLogger("shopkit.ops")
    handler = _Collect()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _logged(log: _Collect, *words) -> bool:
    """Whether one log record names all of ``words`` (who did what to which message)."""
    return any(all(word in line for word in words) for line in log.lines)


def test_a_parked_message_is_listed_then_replayed_once_after_its_cause_is_fixed(service, broker, client, ops_log):
    Failure.objects.create(key="poisoned")
    with running(Consumer()) as consumer:
        publish_raw(broker, user_registered("poisoned"), events.USER_REGISTERED, "msg-poisoned")
        wait_until(lambda: consumer.parked == 1, timeout=30)

        status = client.get(f"/api/v1/ops/{service}/status/", **STAFF).json()
        assert status["parked"] == 1 and status["consumers"] == 1 and status["queue_depth"] == 0
        assert status["ready"] is True and status["service"] == service
        listed = client.get(f"/api/v1/ops/{service}/parked/", **STAFF).json()
        assert listed["count"] == 1
        [message] = listed["results"]
        assert message["id"] == "msg-poisoned" and message["type"] == events.USER_REGISTERED
        assert message["subject"] == "poisoned" and message["correlation_id"] == "corr-poisoned"
        assert "told to fail for poisoned" in message["error"] and message["attempts"] == 3 and message["parked_at"]
        assert client.get(f"/api/v1/ops/{service}/parked/", **STAFF).json()["count"] == 1  # listing removes nothing

        Failure.objects.filter(key="poisoned").delete()  # the cause fixed
        replayed = client.post(f"/api/v1/ops/{service}/parked/msg-poisoned/replay", **STAFF)
        assert replayed.status_code == 202
        wait_until(lambda: Note.objects.filter(key="poisoned").count() == 1, timeout=30)
        assert client.post(f"/api/v1/ops/{service}/parked/msg-poisoned/replay", **STAFF).status_code == 404
        wait_until(lambda: consumer.handled == 1)
    assert Note.objects.filter(key="poisoned").count() == 1
    assert client.get(f"/api/v1/ops/{service}/parked/", **STAFF).json()["count"] == 0
    assert _logged(ops_log, "parked message replayed", "msg-poisoned", "ops@example.com")


def test_a_parked_message_can_be_discarded_and_is_then_gone(service, broker, client, ops_log):
    with running(Consumer()) as consumer:
        publish_raw(broker, b"{not json", events.USER_REGISTERED, "garbage-1")
        publish_raw(broker, b"also not json", events.USER_REGISTERED, "garbage-2")
        wait_until(lambda: consumer.parked == 2, timeout=30)
    assert client.delete(f"/api/v1/ops/{service}/parked/garbage-1/", **STAFF).status_code == 204
    assert client.delete(f"/api/v1/ops/{service}/parked/garbage-1/", **STAFF).status_code == 404
    remaining = client.get(f"/api/v1/ops/{service}/parked/", **STAFF).json()["results"]
    assert [m["id"] for m in remaining] == ["garbage-2"] and "invalid event" in remaining[0]["error"]
    assert _logged(ops_log, "parked message discarded", "garbage-1", "ops@example.com")


def test_the_status_counts_the_outbox_backlog(service, broker, client):
    with transaction.atomic():
        emit(events.USER_REGISTERED, {"user_id": "u1", "email": "u1@example.com", "name": "U"}, subject="u1")

    status = client.get(f"/api/v1/ops/{service}/status/", **STAFF).json()

    assert status["outbox_pending"] == 1 and status["outbox_oldest_age_s"] >= 0
    assert status["queue_depth"] is None and status["parked"] is None  # no consumer has declared its queues yet


def test_a_service_without_a_handler_table_has_no_queue_figures(service, broker, client, settings):
    settings.SHOPKIT_CONSUMER = {**settings.SHOPKIT_CONSUMER, "HANDLERS": ""}

    status = client.get(f"/api/v1/ops/{service}/status/", **STAFF).json()

    assert (status["queue_depth"], status["consumers"], status["parked"]) == (None, None, None)
    assert status["outbox_pending"] == 0 and status["outbox_oldest_age_s"] == 0


class _Twin(BaseHTTPRequestHandler):
    """Another service's web port, as the shop-wide status sees it: answers its own status, records the call."""

    calls: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Twin.calls.append((self.path, self.headers.get("Authorization"), self.headers.get("X-Request-ID")))
        body = json.dumps({"service": "twin", "ready": True, "outbox_pending": 4, "outbox_oldest_age_s": 1.5,
                           "queue_depth": 2, "consumers": 1, "parked": 7}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_shop_wide_status_asks_each_service_on_its_own_port(service, broker, client, settings):
    twin = HTTPServer(("127.0.0.1", 0), _Twin)
    threading.Thread(target=twin.serve_forever, daemon=True).start()
    try:
        settings.SHOPKIT_OPS = {"SERVICES": parse_service_urls(
            f"{service}=http://unused, twin=http://127.0.0.1:{twin.server_port}/, gone=http://127.0.0.1:9")}
        response = client.get("/api/v1/ops/status/", HTTP_X_REQUEST_ID="req-ops-1", **STAFF)
    finally:
        twin.shutdown()
    assert response.status_code == 200
    own, other, gone = response.json()
    assert own["service"] == service and own["ready"] is True
    assert other == {"service": "twin", "ready": True, "outbox_pending": 4, "outbox_oldest_age_s": 1.5,
                     "queue_depth": 2, "consumers": 1, "parked": 7}
    assert _Twin.calls == [("/api/v1/ops/twin/status/", STAFF["HTTP_AUTHORIZATION"], "req-ops-1")]
    assert gone["service"] == "gone" and gone["ready"] is False and "unreachable" in gone["error"]


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/ops/status/"), ("get", "/api/v1/ops/{service}/status/"), ("get", "/api/v1/ops/{service}/parked/"),
    ("post", "/api/v1/ops/{service}/parked/x/replay"), ("delete", "/api/v1/ops/{service}/parked/x/")])
def test_only_staff_may_use_the_ops_routes(service, client, method, path):
    url = path.format(service=service)
    assert getattr(client, method)(url, **CUSTOMER).status_code == 403
    assert getattr(client, method)(url).status_code == 401


def test_service_urls_are_read_from_one_variable():
    assert parse_service_urls(" a=http://x:1/ ,, b=http://y:2,=http://z, c=") == {"a": "http://x:1", "b": "http://y:2"}
    assert parse_service_urls("") == {}


def test_with_the_broker_away_the_parked_routes_answer_503_and_the_status_says_not_ready(service, client, settings):
    settings.SHOPKIT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:9/%2F"  # nothing listens on the discard port

    listed = client.get(f"/api/v1/ops/{service}/parked/", **STAFF)
    replayed = client.post(f"/api/v1/ops/{service}/parked/x/replay", **STAFF)
    status = client.get(f"/api/v1/ops/{service}/status/", **STAFF).json()

    assert (listed.status_code, replayed.status_code) == (503, 503)
    assert listed.json()["type"] == "urn:shop:problem:broker-unavailable"
    assert status["ready"] is False and "broker" in status["error"] and status["parked"] is None
