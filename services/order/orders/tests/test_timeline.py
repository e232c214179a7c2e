"""The order timeline: status changes with the correlation id that caused them, and emails from email.sent/failed."""
import time
import uuid
from datetime import datetime, timedelta

import pytest

from shopkit import events
from shopkit.context import correlated
from shopkit.envelope import build_event
from shopkit.messaging.consumer import apply_event
from shopkit.problems import NotFound
from shopkit.testing import auth_header

from orders import constants, selectors, services
from orders.handlers import HANDLERS
from orders.models import OrderEmail

pytestmark = pytest.mark.django_db


class Staff:
    is_staff = True
    id = "staff-1"


def deliver(event_type, data, *, correlation_id="", subject=""):
    event = build_event(event_type, data, source="/shop/test", subject=subject, correlation_id=correlation_id)
    assert apply_event(event, HANDLERS[event_type])
    return event


def after_the_millisecond_of(moment: datetime) -> None:
    """Wait until the clock is past ``moment``'s millisecond: an event's time has millisecond precision, and news
    about an order (an email sent for it) comes after the order was placed, not within its millisecond."""
    next_millisecond = moment.replace(microsecond=moment.microsecond // 1000 * 1000) + timedelta(milliseconds=1)
    while datetime.now(moment.tzinfo) < next_millisecond:
        time.sleep(0.0005)


def email_outcome(order_id, kind="order_confirmed", email_id=None, **extra):
    data = {"email_id": email_id or str(uuid.uuid4()), "to": "ada@example.com", "kind": kind,
            "cause_event_id": str(uuid.uuid4()), **extra}
    if order_id is not None:
        data["order_id"] = str(order_id)
    return data


def test_each_status_change_keeps_the_correlation_id_of_what_caused_it(place):
    with correlated("req-place"):
        order = place()
    deliver(events.STOCK_RESERVED, {"order_id": str(order.id), "items": []}, correlation_id="req-place")
    with correlated("req-cancel"):
        services.order_cancel(order_id=order.id, by_staff=False)

    timeline = selectors.order_timeline(user=Staff(), order_id=order.id)

    assert [(e["kind"], e["title"], e["correlation_id"]) for e in timeline] == [
        (constants.TIMELINE_STATUS, "Order pending", "req-place"),
        (constants.TIMELINE_STATUS, "Order confirmed", "req-place"),
        (constants.TIMELINE_STATUS, "Order cancelled", "req-cancel")]
    assert [e["detail"] for e in timeline] == [constants.REASON_PLACED, constants.REASON_RESERVED,
                                               constants.REASON_CANCELLED_BY_CUSTOMER]


def test_emails_sent_and_failed_join_the_timeline_in_time_order(place):
    with correlated("req-place"):
        order = place()
    after_the_millisecond_of(order.created_at)
    sent = deliver(events.EMAIL_SENT, email_outcome(order.id), correlation_id="req-place")
    deliver(events.EMAIL_FAILED, email_outcome(order.id, kind="order_cancelled", to="x@example.com"),
            correlation_id="req-cancel")

    timeline = selectors.order_timeline(user=Staff(), order_id=order.id)

    assert [(e["kind"], e["title"], e["correlation_id"]) for e in timeline] == [
        (constants.TIMELINE_STATUS, "Order pending", "req-place"),
        (constants.TIMELINE_EMAIL, "Email sent: order confirmed", "req-place"),
        (constants.TIMELINE_EMAIL, "Email failed: order cancelled", "req-cancel")]
    assert timeline[1]["detail"] == "to ada@example.com"
    assert timeline[1]["at"] == datetime.fromisoformat(sent.time.replace("Z", "+00:00"))
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)


def test_an_email_event_delivered_twice_is_one_entry(place):
    order = place()
    data = email_outcome(order.id)
    deliver(events.EMAIL_SENT, data)
    deliver(events.EMAIL_SENT, data)  # another copy of the news, under a new event id

    assert OrderEmail.objects.filter(order_id=str(order.id)).count() == 1


def test_messages_about_no_order_are_not_kept():
    deliver(events.EMAIL_SENT, email_outcome(None, kind="welcome"))

    assert not OrderEmail.objects.exists()


def test_a_status_change_sorts_before_an_email_of_the_same_instant(place):
    order = place()
    change = order.history.get()
    services.order_email_record(order_id=str(order.id), email_id="e-1", kind="order_confirmed", to="a@example.com",
                                outcome=constants.EMAIL_SENT, at=change.at)
    services.order_email_record(order_id=str(order.id), email_id="e-0", kind="order_rejected", to="a@example.com",
                                outcome=constants.EMAIL_SENT, at=change.at - timedelta(seconds=1))

    kinds = [e["title"] for e in selectors.order_timeline(user=Staff(), order_id=order.id)]

    assert kinds == ["Email sent: order rejected", "Order pending", "Email sent: order confirmed"]


def test_another_customers_timeline_is_not_found(place):
    order = place()

    class Stranger:
        is_staff = False
        id = "someone-else"

    with pytest.raises(NotFound):
        selectors.order_timeline(user=Stranger(), order_id=order.id)


# --- over HTTP ----------------------------------------------------------------------------------------------------

def test_the_owner_and_staff_read_the_timeline_others_get_404(client, place, customer):
    with correlated("req-place"):
        order = place()
    deliver(events.EMAIL_SENT, email_outcome(order.id), correlation_id="req-place")
    url = f"/api/v1/orders/{order.id}/timeline/"
    owner = auth_header(role="customer", user_id=customer.id, email=customer.email, name=customer.name)

    response = client.get(url, **owner)

    assert response.status_code == 200
    body = response.json()
    assert [set(e) for e in body] == [{"at", "kind", "title", "detail", "correlation_id"}] * 2
    assert [(e["kind"], e["correlation_id"]) for e in body] == [("status", "req-place"), ("email", "req-place")]
    assert datetime.fromisoformat(body[0]["at"].replace("Z", "+00:00")).tzinfo is not None
    assert client.get(url, **auth_header(role="staff")).json() == body
    assert client.get(url, **auth_header(role="customer")).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/orders/{uuid.uuid4()}/timeline/", **owner).status_code == 404



def test_an_email_within_the_millisecond_of_its_status_change_comes_after_it(place):
    """An email's time is its event's, to the millisecond, so it can read earlier than the status it followed."""
    order = place()
    at = order.created_at.replace(microsecond=order.created_at.microsecond // 1000 * 1000)
    OrderEmail.objects.create(email_id="e-1", order_id=str(order.id), kind="order_confirmed", outcome="sent",
                              to="ada@example.com", at=at)

    timeline = selectors.order_timeline(user=Staff(), order_id=order.id)

    assert [e["kind"] for e in timeline] == [constants.TIMELINE_STATUS, constants.TIMELINE_EMAIL]
