"""Writes to the email ledger: queueing a message for an event, and the sender's claim and outcome updates.

Each function is one transaction (``email_queue``'s is its caller's when there is one: the consumer's, shared
with the event's inbox record); those that settle a message's fate also emit `email.sent` / `email.failed`
through the outbox in that same transaction. None of them talks to an SMTP server: that is the sender's job,
after the queued row has committed.
"""
from datetime import timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from mail import conf, constants
from mail.models import EmailMessage
from mail.rendering import render_email
from shopkit import events
from shopkit.context import correlated, current_correlation_id
from shopkit.logging import get_logger
from shopkit.messaging.handling import EventRefused, effect_transaction
from shopkit.messaging.outbox import emit
from shopkit.statements import insert_params, insert_sql

log = get_logger(__name__)


def email_queue(*, kind: str, to: str, context: dict, cause_event_id: str, order_id: str | None = None,
                correlation_id: str = "") -> EmailMessage:
    """Render a message of ``kind`` for ``to`` and record it as queued for the sender; return the ledger row.

    At most one message per (cause event, kind) and per (order, kind): when one exists already it is returned
    unchanged. A recipient that is not an email address can never be delivered, so the row is recorded as
    failed at once and `email.failed` is emitted. Raises TemplateDoesNotExist for an unknown kind, and
    EventRefused for a cause event id or order id longer than the ledger holds.
    """
    with effect_transaction():
        rendered = render_email(kind, context)
        problem = _address_problem(to)
        message = EmailMessage(
            cause_event_id=cause_event_id, kind=kind, to=to[:254], subject=rendered.subject,
            body_text=rendered.text, body_html=rendered.html, order_id=order_id,
            correlation_id=(correlation_id or current_correlation_id())[:100],
            status=constants.STATUS_FAILED if problem else constants.STATUS_QUEUED, last_error=problem)
        if not _insert_unless_recorded(message):
            duplicate = Q(cause_event_id=cause_event_id, kind=kind)
            if order_id is not None:
                duplicate |= Q(order_id=order_id, kind=kind)
            # The insert waited for the transaction that wrote the other row to commit, so it is visible here.
            existing = EmailMessage.objects.filter(duplicate).first()
            log.info("email already recorded", email_id=str(existing.id), kind=kind, cause_event_id=cause_event_id)
            return existing
        if problem:
            _emit_outcome(events.EMAIL_FAILED, message)
            log.warning("email not deliverable", email_id=str(message.id), kind=kind, error=problem)
        else:
            log.info("email queued", email_id=str(message.id), kind=kind, cause_event_id=cause_event_id)
        return message


def _insert_unless_recorded(message: EmailMessage) -> bool:
    """INSERT ``message`` in one statement, unless a unique constraint already holds its (cause event, kind) or
    (order, kind); return whether it was inserted.

    One statement instead of a look-up and an insert: a duplicate is rare (the inbox stops redeliveries first),
    and the unique constraints are what guarantees one message anyway. A concurrent transaction inserting the
    same key makes this one wait until it ends: if it commits, nothing is inserted here.
    """
    too_long = [field.name for field in _BOUNDED_FIELDS
                if len(getattr(message, field.attname) or "") > field.max_length]
    if too_long:
        # MySQL's INSERT IGNORE would store them cut short (a warning, not an error), and cut ids may collide.
        raise EventRefused(f"{', '.join(too_long)} longer than the ledger holds")
    params = insert_params(EmailMessage, _INSERTED_NAMES,
                           [[getattr(message, field.attname) for field in _INSERTED_FIELDS]])
    with connection.cursor() as cursor:
        # the lengths are checked above, so on MySQL the IGNORE skips a duplicate key and nothing else
        cursor.execute(insert_sql(EmailMessage, _INSERTED_NAMES, connection.vendor, ignore_conflict=True), params)
        inserted = cursor.rowcount == 1
    if inserted:  # the instance now stands for its row, as after the ORM's save()
        message._state.adding = False
        message._state.db = connection.alias
    return inserted


_INSERTED_FIELDS = EmailMessage._meta.concrete_fields
_INSERTED_NAMES = tuple(field.name for field in _INSERTED_FIELDS)
_BOUNDED_FIELDS = [field for field in _INSERTED_FIELDS if isinstance(field, models.CharField)]


def _address_problem(to: str) -> str:
    if len(to) > 254:
        return "recipient address is longer than 254 characters"
    try:
        validate_email(to)
    except ValidationError:
        return f"recipient {to!r} is not an email address"
    return ""


def email_claim_due(*, limit: int, lease_seconds: float) -> list[EmailMessage]:
    """Take up to ``limit`` queued messages that are due, oldest first, for one sender.

    Their ``next_attempt_at`` moves ``lease_seconds`` ahead, so other senders leave them alone while this one
    works; if it dies, they become due again when the lease runs out. On PostgreSQL and MySQL the rows are
    locked with SKIP LOCKED, so concurrent senders claim disjoint batches; SQLite's IMMEDIATE transactions
    serialise claims.
    """
    now = timezone.now()
    due = EmailMessage.objects.filter(status=constants.STATUS_QUEUED, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "created_at")
    if not due.exists():
        return []  # an idle sender polls often: only take a write lock (all of SQLite's) when there is work
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = list(due[:limit])
        if claimed:
            EmailMessage.objects.filter(id__in=[m.id for m in claimed]).update(
                next_attempt_at=now + timedelta(seconds=lease_seconds))
    return claimed


def email_release(*, email_ids: list) -> None:
    """Give claimed but unsent messages back at once (a sender stopping cleanly, or its lease running short)."""
    with transaction.atomic():
        EmailMessage.objects.filter(id__in=email_ids, status=constants.STATUS_QUEUED).update(
            next_attempt_at=timezone.now())


def email_postpone(*, email_ids: list, error: str, delay_seconds: float) -> None:
    """The SMTP server could not be reached: the messages wait ``delay_seconds`` without using up an attempt
    (the server being down is no fault of theirs); ``last_error`` tells staff why they wait."""
    with transaction.atomic():
        EmailMessage.objects.filter(id__in=email_ids, status=constants.STATUS_QUEUED).update(
            last_error=error[: constants.ERROR_MAX_LENGTH],
            next_attempt_at=timezone.now() + timedelta(seconds=delay_seconds))


def email_mark_sent(*, email_id, claimed: EmailMessage | None = None) -> bool:
    """The SMTP server accepted the message: record it as sent and emit `email.sent`.

    ``claimed``: the row as the sender claimed it, when at hand; the outcome names its recipient, kind, cause
    and order, which never change, so the row is not loaded again. Returns False, changing nothing, when the
    message is no longer queued.
    """
    sent_at = EmailMessage._meta.get_field("sent_at").get_db_prep_save(timezone.now(), connection)
    params = [constants.STATUS_SENT, sent_at, EmailMessage._meta.pk.get_db_prep_save(email_id, connection),
              constants.STATUS_QUEUED]
    with transaction.atomic():
        # One UPDATE … WHERE status = queued: the ORM's update() costs ten times the statement's own time here.
        with connection.cursor() as cursor:
            cursor.execute(_mark_sent_sql(connection.vendor), params)
            updated = cursor.rowcount
        if updated:
            _emit_outcome(events.EMAIL_SENT, claimed or EmailMessage.objects.get(id=email_id))
        return bool(updated)


@lru_cache(maxsize=4)
def _mark_sent_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    column = {name: quote(EmailMessage._meta.get_field(name).column) for name in ("id", "status", "sent_at",
                                                                                  "attempts")}
    return (f"UPDATE {quote(EmailMessage._meta.db_table)} SET {column['status']} = %s, {column['sent_at']} = %s, "
            f"{column['attempts']} = {column['attempts']} + 1 WHERE {column['id']} = %s AND {column['status']} = %s")


def email_mark_retry(*, email_id, error: str) -> str:
    """An SMTP try failed in a way that may pass: count the attempt and wait with exponential back-off, or,
    when this was the last allowed attempt, mark the message failed and emit `email.failed`.

    Returns the message's status afterwards.
    """
    delivery = conf.delivery_settings()
    with transaction.atomic():
        message = EmailMessage.objects.select_for_update().get(id=email_id)
        if message.status != constants.STATUS_QUEUED:
            return message.status
        message.attempts += 1
        message.last_error = error[: constants.ERROR_MAX_LENGTH]
        if message.attempts >= delivery["MAX_ATTEMPTS"]:
            message.status = constants.STATUS_FAILED
            message.save(update_fields=["attempts", "last_error", "status"])
            _emit_outcome(events.EMAIL_FAILED, message)
        else:
            delay = retry_delay_seconds(message.attempts)
            message.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        return message.status


def email_mark_failed(*, email_id, error: str) -> bool:
    """The server refused the message for good (a 5xx reply): mark it failed now and emit `email.failed`.

    Returns False, changing nothing, when the message is no longer queued.
    """
    with transaction.atomic():
        updated = EmailMessage.objects.filter(id=email_id, status=constants.STATUS_QUEUED).update(
            status=constants.STATUS_FAILED, attempts=F("attempts") + 1,
            last_error=error[: constants.ERROR_MAX_LENGTH])
        if updated:
            _emit_outcome(events.EMAIL_FAILED, EmailMessage.objects.get(id=email_id))
        return bool(updated)


def retry_delay_seconds(attempts: int) -> float:
    """How long a message waits after its ``attempts``-th failed try: base · 2^(attempts-1), capped."""
    delivery = conf.delivery_settings()
    return min(delivery["RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0), delivery["RETRY_MAX_SECONDS"])


def _emit_outcome(event_type: str, message: EmailMessage) -> None:
    # The outcome continues the chain of the event that caused the message, not the sender's own.
    # An order's messages name their order (schema v2), so the order service can put them on its timeline.
    data = {"email_id": str(message.id), "to": message.to, "kind": message.kind,
            "cause_event_id": message.cause_event_id}
    if message.order_id:
        data["order_id"] = message.order_id
    with correlated(message.correlation_id or None):
        emit(event_type, data, subject=str(message.id))
