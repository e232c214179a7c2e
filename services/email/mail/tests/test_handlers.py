"""Event handlers: each customer-facing event queues exactly one message, and nothing is sent in the handler."""
import json

import pytest

from mail import constants
from mail.handlers import HANDLERS
from mail.models import EmailMessage
from mail.tests.builders import order_event, password_reset_event, user_registered_event
from shopkit import events
from shopkit.envelope import parse_event
from shopkit.messaging.consumer import apply_event
from shopkit.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db

ORDER_EVENT_KINDS = {
    events.ORDER_CONFIRMED: constants.KIND_ORDER_CONFIRMED,
    events.ORDER_REJECTED: constants.KIND_ORDER_REJECTED,
    events.ORDER_CANCELLED: constants.KIND_ORDER_CANCELLED,
    events.ORDER_SHIPPED: constants.KIND_ORDER_SHIPPED,
    events.ORDER_DELIVERED: constants.KIND_ORDER_DELIVERED,
}


def test_the_handler_table_covers_every_customer_facing_event():
    assert set(HANDLERS) == {events.USER_REGISTERED, events.USER_PASSWORD_RESET_REQUESTED, *ORDER_EVENT_KINDS}


def test_user_registered_queues_one_welcome_message():
    event = user_registered_event(email="grace@example.com", name="Grace Hopper")

    assert apply_event(event, HANDLERS[event.type]) is True

    message = EmailMessage.objects.get()
    assert (message.kind, message.to, message.status) == (constants.KIND_WELCOME, "grace@example.com",
                                                          constants.STATUS_QUEUED)
    assert message.cause_event_id == event.id and message.order_id is None
    assert message.attempts == 0 and message.sent_at is None
    assert message.subject == "Welcome to the Shop, Grace Hopper"
    assert message.correlation_id == event.correlationid


def test_a_password_reset_request_queues_one_message_with_the_link():
    event = password_reset_event(email="grace@example.com")

    assert apply_event(event, HANDLERS[event.type]) is True

    message = EmailMessage.objects.get()
    assert (message.kind, message.to, message.status) == (constants.KIND_PASSWORD_RESET, "grace@example.com",
                                                          constants.STATUS_QUEUED)
    assert message.cause_event_id == event.id and message.order_id is None
    assert event.data["reset_url"] in message.body_text and event.data["reset_url"] in message.body_html


def test_two_reset_requests_make_two_messages():
    for _ in range(2):
        apply_event(password_reset_event(), HANDLERS[events.USER_PASSWORD_RESET_REQUESTED])
    assert EmailMessage.objects.filter(kind=constants.KIND_PASSWORD_RESET).count() == 2


@pytest.mark.parametrize("event_type", sorted(ORDER_EVENT_KINDS))
def test_each_order_event_queues_one_message_of_its_kind(event_type):
    event = order_event(event_type, customer_email="ada@example.com")

    apply_event(event, HANDLERS[event_type])

    message = EmailMessage.objects.get()
    assert message.kind == ORDER_EVENT_KINDS[event_type]
    assert message.to == "ada@example.com"
    assert message.order_id == event.data["order_id"]
    assert message.status == constants.STATUS_QUEUED
    assert "Ada Lovelace" in message.body_text and "Ada Lovelace" in message.body_html
    assert f"/orders/{event.data['order_id']}" in message.body_text


@pytest.mark.parametrize("event_type", [events.USER_REGISTERED, events.USER_PASSWORD_RESET_REQUESTED,
                                        *sorted(ORDER_EVENT_KINDS)])
def test_an_event_delivered_twice_makes_one_message(event_type):
    event = {events.USER_REGISTERED: user_registered_event,
             events.USER_PASSWORD_RESET_REQUESTED: password_reset_event}.get(
        event_type, lambda: order_event(event_type))()

    assert apply_event(event, HANDLERS[event_type]) is True
    assert apply_event(event, HANDLERS[event_type]) is False

    assert EmailMessage.objects.count() == 1


def test_the_ledger_itself_refuses_a_second_message_for_the_same_event():
    # Even past the inbox (a handler called again, e.g. after the inbox was pruned), the ledger keeps one.
    event = order_event(events.ORDER_SHIPPED)
    HANDLERS[event.type](event)
    HANDLERS[event.type](event)
    assert EmailMessage.objects.filter(cause_event_id=event.id).count() == 1


def test_a_second_event_of_the_same_kind_for_one_order_makes_no_second_message():
    first = order_event(events.ORDER_CONFIRMED)
    again = order_event(events.ORDER_CONFIRMED, order_id=first.data["order_id"])  # a new event id
    apply_event(first, HANDLERS[first.type])
    apply_event(again, HANDLERS[again.type])
    assert EmailMessage.objects.filter(order_id=first.data["order_id"]).count() == 1


def test_one_order_gets_one_message_per_event_of_its_life():
    order_id = "4d8e2a57-0c1f-4f3e-8a4b-2b9e7c6d5f10"
    for event_type in (events.ORDER_CONFIRMED, events.ORDER_SHIPPED, events.ORDER_DELIVERED):
        apply_event(order_event(event_type, order_id=order_id), HANDLERS[event_type])
    kinds = sorted(EmailMessage.objects.filter(order_id=order_id).values_list("kind", flat=True))
    assert kinds == [constants.KIND_ORDER_CONFIRMED, constants.KIND_ORDER_DELIVERED, constants.KIND_ORDER_SHIPPED]


def test_handlers_only_write_the_ledger_and_send_nothing(smtp_server):
    apply_event(order_event(events.ORDER_CONFIRMED), HANDLERS[events.ORDER_CONFIRMED])
    assert EmailMessage.objects.get().status == constants.STATUS_QUEUED
    assert smtp_server.received == []
    assert not OutboxMessage.objects.exists()  # email.sent comes from the sender, after delivery


def test_an_address_that_is_not_one_fails_at_once_and_says_so():
    event = user_registered_event(email="not-an-address")

    apply_event(event, HANDLERS[event.type])

    message = EmailMessage.objects.get()
    assert message.status == constants.STATUS_FAILED
    assert "not an email address" in message.last_error
    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == events.EMAIL_FAILED
    body = json.loads(outbox.body)
    assert body["data"] == {"email_id": str(message.id), "to": "not-an-address", "kind": constants.KIND_WELCOME,
                            "cause_event_id": event.id}
    assert body["correlationid"] == event.correlationid


def test_a_failing_handler_leaves_no_ledger_row(monkeypatch):
    event = order_event(events.ORDER_SHIPPED)

    def broken(*args, **kwargs):
        raise RuntimeError("template engine down")

    monkeypatch.setattr("mail.services.render_email", broken)
    with pytest.raises(RuntimeError):
        apply_event(event, HANDLERS[event.type])
    assert not EmailMessage.objects.exists()

    monkeypatch.undo()  # the consumer's retry then succeeds: the inbox did not record the failed try
    assert apply_event(event, HANDLERS[event.type]) is True
    assert EmailMessage.objects.count() == 1


def test_events_from_the_wire_are_handled_like_built_ones():
    event = order_event(events.ORDER_DELIVERED)
    wired = parse_event(event.to_json())
    apply_event(wired, HANDLERS[wired.type])
    assert EmailMessage.objects.get().cause_event_id == event.id


def test_every_handler_name_has_the_inbox_key_it_had_before_mapped_to_it():
    from importlib import import_module

    renamed = import_module("mail.migrations.0003_inbox_handler_names").RENAMED
    assert {handler.name for handler in HANDLERS.values()} == set(renamed.values())
    # the keys were the functions' Python paths, which is what the migration finds in the inbox
    assert {f"{h.function.__module__}.{h.function.__qualname__}" for h in HANDLERS.values()} == set(renamed)
