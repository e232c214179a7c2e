"""The ledger's writes: queueing is one statement that the unique constraints keep single, and marking a message
sent is one update plus its `email.sent`."""
import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mail import constants, services
from mail.models import EmailMessage
from shopkit import events
from shopkit.messaging.handling import EventRefused
from shopkit.messaging.models import OutboxMessage


def queue(*, cause_event_id="evt-1", order_id="o-1", to="ada@example.com", kind=constants.KIND_ORDER_SHIPPED):
    return services.email_queue(kind=kind, to=to, cause_event_id=cause_event_id, order_id=order_id,
                                correlation_id=f"corr-{cause_event_id}",
                                context={"customer_name": "Ada", "items": [], "total": "0.00", "currency": "EUR",
                                         "order_ref": "X", "order_url": "http://shop/orders/x"})


def outbox_bodies(event_type):
    return [json.loads(row.body) for row in OutboxMessage.objects.filter(event_type=event_type)]


@pytest.mark.django_db
def test_queueing_in_the_consumers_transaction_is_one_insert():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        message = queue()
    assert [query["sql"].split()[0] for query in queries] == ["INSERT"]  # no look-up first, no savepoint
    stored = EmailMessage.objects.get()
    assert (stored.id, stored.status, stored.subject, stored.correlation_id) == (
        message.id, constants.STATUS_QUEUED, message.subject, "corr-evt-1")


@pytest.mark.django_db
def test_a_second_event_of_the_kind_for_the_order_returns_the_first_message_and_emits_nothing():
    first = queue(cause_event_id="evt-1")
    again = queue(cause_event_id="evt-2", to="not-an-address")  # would fail at once if it were recorded

    assert again.id == first.id and again.status == constants.STATUS_QUEUED
    assert EmailMessage.objects.count() == 1
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_the_same_event_without_an_order_returns_the_first_message():
    first = queue(order_id=None, kind=constants.KIND_WELCOME)
    assert queue(order_id=None, kind=constants.KIND_WELCOME).id == first.id
    assert EmailMessage.objects.count() == 1


@pytest.mark.django_db
def test_an_order_id_longer_than_the_ledger_holds_is_refused_not_cut():
    # MySQL's INSERT IGNORE would store it cut short; one cut id could then stand for another order.
    with pytest.raises(EventRefused, match="order_id"), transaction.atomic():  # the consumer's transaction
        queue(order_id="o" * 101)
    assert not EmailMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_events_for_one_order_racing_make_one_message():
    first_inserted, finish_first = threading.Event(), threading.Event()
    results, errors = {}, []

    def in_thread(name, work):
        try:
            results[name] = work()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def first():
        with transaction.atomic():
            message = queue(cause_event_id="evt-a")
            first_inserted.set()
            finish_first.wait(10)  # the second inserts while this transaction is still open
            return message

    def second():
        first_inserted.wait(10)
        return queue(cause_event_id="evt-b")

    threads = [threading.Thread(target=in_thread, args=("first", first)),
               threading.Thread(target=in_thread, args=("second", second))]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # let the second reach its insert and wait on the first's key (any order is correct)
    finish_first.set()
    for thread in threads:
        thread.join(20)

    assert not errors
    assert results["second"].id == results["first"].id
    assert EmailMessage.objects.filter(order_id="o-1").count() == 1


@pytest.mark.django_db
def test_marking_sent_with_the_claimed_row_is_one_update_and_the_same_email_sent():
    claimed, loaded = queue(cause_event_id="evt-1", order_id="o-1"), queue(cause_event_id="evt-2", order_id="o-2")

    with CaptureQueriesContext(connection) as queries:
        assert services.email_mark_sent(email_id=claimed.id, claimed=claimed) is True
    assert services.email_mark_sent(email_id=loaded.id) is True

    assert [query["sql"].split()[0] for query in queries if query["sql"].split()[0] in ("SELECT", "UPDATE")] == [
        "UPDATE"]  # the outcome is built from the row in hand
    bodies = {body["data"]["email_id"]: body for body in outbox_bodies(events.EMAIL_SENT)}
    for message in (claimed, loaded):
        assert bodies[str(message.id)]["data"] == {"email_id": str(message.id), "to": message.to,
                                                   "kind": message.kind, "cause_event_id": message.cause_event_id,
                                                   "order_id": message.order_id}
        assert bodies[str(message.id)]["correlationid"] == message.correlation_id
        message.refresh_from_db()
        assert (message.status, message.attempts) == (constants.STATUS_SENT, 1) and message.sent_at is not None


@pytest.mark.django_db
def test_marking_sent_what_is_no_longer_queued_changes_nothing():
    message = queue()
    assert services.email_mark_sent(email_id=message.id, claimed=message) is True
    assert services.email_mark_sent(email_id=message.id, claimed=message) is False
    message.refresh_from_db()
    assert message.attempts == 1
    assert len(outbox_bodies(events.EMAIL_SENT)) == 1
