"""Staff routes of the email ledger (DESIGN.md §5) and the service's OpenAPI document."""
import uuid

import pytest

from mail import constants
from mail.handlers import HANDLERS
from mail.models import EmailMessage
from mail.tests.builders import order_event, password_reset_event, user_registered_event
from shopkit import events
from shopkit.messaging.consumer import apply_event
from shopkit.testing import auth_header

pytestmark = pytest.mark.django_db

STAFF = auth_header(role="staff")
LIST_FIELDS = {"id", "to", "subject", "kind", "status", "attempts", "cause_event_id", "order_id", "created_at",
               "sent_at"}


def handle(event):
    apply_event(event, HANDLERS[event.type])
    return EmailMessage.objects.get(cause_event_id=event.id)


@pytest.fixture
def ledger():
    """A welcome for grace, and ada's order confirmed (sent) and shipped (queued)."""
    order_id = str(uuid.uuid4())
    welcome = handle(user_registered_event(email="grace@example.com"))
    confirmed = handle(order_event(events.ORDER_CONFIRMED, order_id=order_id, customer_email="ada@example.com"))
    shipped = handle(order_event(events.ORDER_SHIPPED, order_id=order_id, customer_email="ada@example.com"))
    EmailMessage.objects.filter(id=confirmed.id).update(status=constants.STATUS_SENT)
    return {"order_id": order_id, "welcome": welcome, "confirmed": confirmed, "shipped": shipped}


def test_staff_list_the_ledger_newest_first(client, ledger):
    response = client.get("/api/v1/emails/", **STAFF)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert [item["id"] for item in body["results"]] == [str(ledger[k].id) for k in ("shipped", "confirmed", "welcome")]
    item = body["results"][0]
    assert set(item) == LIST_FIELDS
    assert item["to"] == "ada@example.com" and item["kind"] == constants.KIND_ORDER_SHIPPED
    assert item["status"] == constants.STATUS_QUEUED and item["attempts"] == 0 and item["sent_at"] is None
    assert item["order_id"] == ledger["order_id"]
    assert item["cause_event_id"] == ledger["shipped"].cause_event_id


@pytest.mark.parametrize("query, expected", [
    ("to=ADA@example.com", {"confirmed", "shipped"}),
    ("kind=welcome", {"welcome"}),
    ("status=sent", {"confirmed"}),
    ("status=queued&to=ada@example.com", {"shipped"}),
    ("to=nobody@example.com", set()),
])
def test_the_list_filters_by_recipient_kind_and_status(client, ledger, query, expected):
    body = client.get(f"/api/v1/emails/?{query}", **STAFF).json()
    assert {item["id"] for item in body["results"]} == {str(ledger[name].id) for name in expected}


def test_the_list_filters_by_order(client, ledger):
    body = client.get(f"/api/v1/emails/?order_id={ledger['order_id']}", **STAFF).json()
    assert sorted(item["kind"] for item in body["results"]) == [constants.KIND_ORDER_CONFIRMED,
                                                                constants.KIND_ORDER_SHIPPED]


def test_the_list_is_paginated(client, ledger):
    body = client.get("/api/v1/emails/?page_size=2", **STAFF).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    second = client.get("/api/v1/emails/?page_size=2&page=2", **STAFF).json()
    assert len(second["results"]) == 1 and second["previous"]


@pytest.mark.parametrize("query", ["kind=newsletter", "status=lost", "page=99"])
def test_bad_filters_are_problems(client, ledger, query):
    response = client.get(f"/api/v1/emails/?{query}", **STAFF)
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/problem+json"


def test_an_unknown_kind_names_the_field(client):
    response = client.get("/api/v1/emails/?kind=newsletter", **STAFF)
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_staff_read_one_message_with_its_bodies(client, ledger):
    message = ledger["confirmed"]
    response = client.get(f"/api/v1/emails/{message.id}/", **STAFF)

    assert response.status_code == 200
    body = response.json()
    assert LIST_FIELDS | {"body", "body_text", "body_html"} <= set(body)
    assert body["body"] == message.body_text
    assert body["body_text"] == message.body_text and "Blue Mug" in body["body_text"]
    assert body["body_html"] == message.body_html and "<table" in body["body_html"]
    assert body["status"] == constants.STATUS_SENT


def test_an_unknown_message_is_404(client):
    response = client.get(f"/api/v1/emails/{uuid.uuid4()}/", **STAFF)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/emails/not-a-uuid/", **STAFF).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/emails/", f"/api/v1/emails/{uuid.uuid4()}/"])
def test_only_staff_may_read_the_ledger(client, ledger, path):
    path = path if path.endswith("emails/") else f"/api/v1/emails/{ledger['welcome'].id}/"
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"
    customer = client.get(path, **auth_header(role="customer", email="grace@example.com"))
    assert customer.status_code == 403


def test_the_ledger_is_read_only(client, ledger):
    assert client.post("/api/v1/emails/", {}, content_type="application/json", **STAFF).status_code == 405
    assert client.delete(f"/api/v1/emails/{ledger['welcome'].id}/", **STAFF).status_code == 405


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.oai.openapi+json", "*/*"])
def test_the_openapi_document_is_json_whatever_the_client_accepts(client, accept):
    response = client.get("/api/v1/schema/email/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Shop email service"


def test_the_openapi_document_describes_the_email_routes(client):
    response = client.get("/api/v1/schema/email/")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/emails/", "/api/v1/emails/{email_id}/"} <= set(document["paths"])
    parameters = {p["name"] for p in document["paths"]["/api/v1/emails/"]["get"]["parameters"]}
    assert {"to", "order_id", "kind", "status", "page", "page_size"} <= parameters


def test_staff_see_a_reset_message_in_the_ledger_but_never_its_link(client):
    message = handle(password_reset_event(email="grace@example.com"))

    listed = client.get("/api/v1/emails/?kind=password_reset", **STAFF).json()
    detail = client.get(f"/api/v1/emails/{message.id}/", **STAFF).json()

    assert [item["id"] for item in listed["results"]] == [str(message.id)]
    assert detail["kind"] == "password_reset" and detail["to"] == "grace@example.com"
    for field in ("body", "body_text", "body_html"):
        assert "token=" not in detail[field] and detail[field] == constants.WITHHELD_BODY
    assert "token=tok-123_abc" in EmailMessage.objects.get().body_text  # the sender still has it
