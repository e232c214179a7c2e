"""The sender against a real SMTP server: delivery, outages, refusals, retries, and no double sends."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from mail import constants, services
from mail.models import EmailMessage
from mail.sender import Sender
from mail.tests.fixtures import SmtpServer, free_port
from shopkit import events
from shopkit.messaging.models import OutboxMessage
from shopkit.testing import running, wait_until


def queue(to="ada@example.com", kind=constants.KIND_ORDER_SHIPPED, order_id=None, **context):
    return services.email_queue(
        kind=kind, to=to, cause_event_id=f"evt-{to}-{kind}-{order_id}", order_id=order_id,
        context={"customer_name": "Ada", "items": [], "total": "0.00", "currency": "EUR", "order_ref": "X",
                 "order_url": "http://shop/orders/x", **context})


def outcome_events(event_type):
    return [json.loads(row.body)["data"] for row in OutboxMessage.objects.filter(event_type=event_type)]


@pytest.mark.django_db
def test_a_queued_message_goes_out_as_text_and_html_and_is_marked_sent(smtp_server, settings):
    settings.DEFAULT_FROM_EMAIL = "Shop <orders@shop.example>"
    message = queue(to="ada@example.com", order_id="o-1")

    Sender().send_due()

    [(rcpts, mime)] = smtp_server.received
    assert rcpts == ["ada@example.com"]
    assert mime["Subject"] == message.subject
    assert mime["From"] == "Shop <orders@shop.example>"
    assert mime["Message-ID"] == f"<{message.id}@shop.example>"
    assert mime.get_body(("plain",)).get_content().replace("\r\n", "\n") == message.body_text
    assert mime.get_body(("html",)).get_content().replace("\r\n", "\n") == message.body_html
    message.refresh_from_db()
    assert message.status == constants.STATUS_SENT and message.attempts == 1 and message.sent_at is not None
    assert outcome_events(events.EMAIL_SENT) == [{"email_id": str(message.id), "to": "ada@example.com",
                                                  "kind": message.kind, "cause_event_id": message.cause_event_id,
                                                  "order_id": "o-1"}]  # schema v2: an order's message names it


@pytest.mark.django_db
def test_a_sent_message_is_not_sent_again(smtp_server):
    queue()
    sender = Sender()
    sender.send_due()
    sender.send_due()
    assert len(smtp_server.received) == 1


@pytest.mark.django_db
def test_a_refused_recipient_fails_at_once_and_the_others_are_sent(smtp_server):
    smtp_server.handler.refuse["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: no such user"
    first = queue(to="ada@example.com", order_id="o-1")
    refused = queue(to="nobody@example.com", order_id="o-2")
    last = queue(to="grace@example.com", order_id="o-3")

    Sender().send_due()

    refused.refresh_from_db()
    assert refused.status == constants.STATUS_FAILED
    assert refused.attempts == 1
    assert "550" in refused.last_error and "no such user" in refused.last_error
    for other in (first, last):
        other.refresh_from_db()
        assert other.status == constants.STATUS_SENT
    assert smtp_server.received_by("nobody@example.com") == []
    assert len(smtp_server.received_by("ada@example.com")) == len(smtp_server.received_by("grace@example.com")) == 1
    assert [e["email_id"] for e in outcome_events(events.EMAIL_FAILED)] == [str(refused.id)]
    assert len(outcome_events(events.EMAIL_SENT)) == 2


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_with_growing_delays_then_fails(smtp_server, settings):
    settings.SHOP_EMAIL = {"MAX_ATTEMPTS": 3, "RETRY_BASE_SECONDS": 60, "RETRY_MAX_SECONDS": 3600}
    smtp_server.handler.refuse["busy@example.com"] = "451 4.3.0 try again later"
    message = queue(to="busy@example.com")
    sender = Sender()

    before = timezone.now()
    sender.send_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (constants.STATUS_QUEUED, 1)
    assert "451" in message.last_error
    assert timedelta(seconds=59) < message.next_attempt_at - before < timedelta(seconds=62)

    sender.send_due()  # not due yet: nothing happens
    message.refresh_from_db()
    assert message.attempts == 1

    EmailMessage.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    before = timezone.now()
    sender.send_due()
    message.refresh_from_db()
    assert message.attempts == 2
    assert timedelta(seconds=119) < message.next_attempt_at - before < timedelta(seconds=122)

    EmailMessage.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    sender.send_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (constants.STATUS_FAILED, 3)
    assert "451" in message.last_error
    assert [e["email_id"] for e in outcome_events(events.EMAIL_FAILED)] == [str(message.id)]
    assert smtp_server.received == []


def test_retry_delays_grow_exponentially_up_to_the_cap(settings):
    settings.SHOP_EMAIL = {"RETRY_BASE_SECONDS": 10, "RETRY_MAX_SECONDS": 100}
    assert [services.retry_delay_seconds(n) for n in range(1, 6)] == [10, 20, 40, 80, 100]


@pytest.mark.django_db
def test_while_the_server_is_down_messages_wait_without_using_attempts(settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    message = queue()
    sender = Sender(poll_seconds=0.5)

    sender.send_due()

    message.refresh_from_db()
    assert message.status == constants.STATUS_QUEUED and message.attempts == 0
    assert "unavailable" in message.last_error
    assert message.next_attempt_at > timezone.now()
    assert sender.server_down
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_smtp_server_down_then_back_messages_wait_then_go_out(settings, fast_retries):
    server = SmtpServer().start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    early = queue(to="early@example.com")
    try:
        with running(Sender()) as sender:
            wait_until(lambda: EmailMessage.objects.get(id=early.id).status == constants.STATUS_SENT)
            server.stop()  # the outage

            waiting = [queue(to=f"late{n}@example.com") for n in range(3)]
            wait_until(lambda: sender.server_down)
            wait_until(lambda: all("unavailable" in m.last_error for m in EmailMessage.objects.filter(
                id__in=[w.id for w in waiting])))
            assert set(EmailMessage.objects.filter(id__in=[w.id for w in waiting]).values_list(
                "status", "attempts")) == {(constants.STATUS_QUEUED, 0)}

            server.start()  # back, on the same port
            wait_until(lambda: EmailMessage.objects.filter(status=constants.STATUS_SENT).count() == 4)
    finally:
        server.stop()
    for n in range(3):
        assert len(server.received_by(f"late{n}@example.com")) == 1
    assert len(server.received) == 4
    assert len(outcome_events(events.EMAIL_SENT)) == 4


@pytest.mark.django_db
def test_a_sender_that_died_mid_batch_leaves_the_unsent_to_the_next_one_once(smtp_server):
    messages = [queue(to=f"r{n}@example.com") for n in range(3)]
    # The dead sender claimed the batch, delivered the first and recorded it, then was killed.
    claimed = services.email_claim_due(limit=10, lease_seconds=120)
    assert len(claimed) == 3
    assert Sender().send_due() == 0  # the claim hides them from other senders while the lease lasts
    services.email_mark_sent(email_id=messages[0].id)

    # The lease runs out.
    EmailMessage.objects.filter(status=constants.STATUS_QUEUED).update(next_attempt_at=timezone.now())
    Sender().send_due()

    assert smtp_server.received_by("r0@example.com") == []  # recorded as sent: never again
    assert len(smtp_server.received_by("r1@example.com")) == 1
    assert len(smtp_server.received_by("r2@example.com")) == 1
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {constants.STATUS_SENT}


@pytest.mark.django_db
def test_stopping_finishes_the_message_in_hand_and_gives_the_rest_back(smtp_server):
    for n in range(3):
        queue(to=f"r{n}@example.com")
    sent_before_stop = []

    def stop_after_first():
        sent_before_stop.append(len(smtp_server.received))
        return len(smtp_server.received) >= 1

    Sender().send_due(should_stop=stop_after_first)

    assert len(smtp_server.received) == 1
    statuses = list(EmailMessage.objects.order_by("created_at").values_list("status", flat=True))
    assert statuses.count(constants.STATUS_SENT) == 1 and statuses.count(constants.STATUS_QUEUED) == 2
    # Given back at once, not left to a lease: the next round sends them.
    Sender().send_due()
    assert len(smtp_server.received) == 3
    assert {tuple(r) for r, _ in smtp_server.received} == {("r0@example.com",), ("r1@example.com",),
                                                          ("r2@example.com",)}


@pytest.mark.django_db
def test_a_connection_dropped_mid_message_uses_an_attempt_and_the_batch_carries_on(smtp_server, monkeypatch):
    import smtplib

    first = queue(to="drop@example.com")
    second = queue(to="fine@example.com")
    real_sendmail = smtplib.SMTP.sendmail

    def flaky_sendmail(self, from_addr, to_addrs, msg, *args, **kwargs):
        if "drop@example.com" in to_addrs:
            self.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_sendmail(self, from_addr, to_addrs, msg, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", flaky_sendmail)
    Sender().send_due()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == (constants.STATUS_QUEUED, 1)
    assert "connection lost" in first.last_error
    assert second.status == constants.STATUS_SENT


@pytest.mark.django_db(transaction=True)
def test_a_database_hiccup_after_the_accept_is_retried_rather_than_sending_twice(smtp_server, monkeypatch):
    from django.db import OperationalError

    message = queue()
    real_mark_sent = services.email_mark_sent
    calls = []

    def mark_sent_after_a_hiccup(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server has gone away")
        return real_mark_sent(**kwargs)

    monkeypatch.setattr(services, "email_mark_sent", mark_sent_after_a_hiccup)
    Sender().send_due()

    message.refresh_from_db()
    assert message.status == constants.STATUS_SENT and len(calls) == 2
    assert len(smtp_server.received) == 1


@pytest.mark.django_db(transaction=True)
def test_two_senders_side_by_side_send_each_message_once(smtp_server, fast_retries):
    addresses = [f"r{n}@example.com" for n in range(24)]
    for address in addresses:
        queue(to=address)

    with running(Sender(batch_size=3)) as one, running(Sender(batch_size=3)) as other:
        wait_until(lambda: not EmailMessage.objects.filter(status=constants.STATUS_QUEUED).exists(), timeout=30)

    assert sorted(r[0] for r, _ in smtp_server.received) == sorted(addresses)
    assert one.sent + other.sent == len(addresses)
    assert len(outcome_events(events.EMAIL_SENT)) == len(addresses)


@pytest.mark.django_db
def test_sent_and_failed_emails_and_smtp_latency_are_counted_by_kind(smtp_server):
    from prometheus_client import REGISTRY

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    kind = constants.KIND_ORDER_SHIPPED
    before = (value("shop_emails_sent_total", email_kind=kind), value("shop_emails_failed_total", email_kind=kind),
              value("shop_smtp_send_duration_seconds_count"))
    smtp_server.handler.refuse["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: no such user"
    queue(to="ada@example.com", order_id="m-1")
    queue(to="grace@example.com", order_id="m-2")
    queue(to="nobody@example.com", order_id="m-3")

    Sender().send_due()

    after = (value("shop_emails_sent_total", email_kind=kind), value("shop_emails_failed_total", email_kind=kind),
             value("shop_smtp_send_duration_seconds_count"))
    assert [a - b for a, b in zip(after, before)] == [2, 1, 2]  # latency: of the accepted ones
    # every kind has its series from the start, at zero when nothing of it happened
    assert REGISTRY.get_sample_value("shop_emails_failed_total", {"email_kind": constants.KIND_WELCOME}) is not None


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Ada", "Zoë"], ids=["plain", "encoded-subject"])
def test_a_message_arrives_with_its_headers_and_both_parts_whichever_way_it_was_built(smtp_server, name):
    # "Zoë" puts a non-ASCII word in the welcome subject: that message is built by Django's MIME classes, the other
    # one written directly (mail.mime); the server sees the same form.
    message = services.email_queue(kind=constants.KIND_WELCOME, to="ada@example.com", cause_event_id=f"evt-{name}",
                                   context={"name": name, "email": "ada@example.com", "shop_url": "http://shop"})

    Sender().send_due()

    [(rcpts, mime)] = smtp_server.received
    assert rcpts == ["ada@example.com"]
    assert mime.get_content_type() == "multipart/alternative"
    assert mime["Subject"] == message.subject and name in message.subject
    assert (mime["Message-ID"], mime["X-Shop-Email-Id"], mime["X-Shop-Email-Kind"]) == (
        f"<{message.id}@localhost>", str(message.id), constants.KIND_WELCOME)
    assert [part.get_content_type() for part in mime.iter_parts()] == ["text/plain", "text/html"]
    assert mime.get_body(("plain",)).get_content().replace("\r\n", "\n") == message.body_text
    assert mime.get_body(("html",)).get_content().replace("\r\n", "\n") == message.body_html
