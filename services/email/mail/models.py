"""The email ledger: one row per message the shop sends, from queued to sent or failed."""
import uuid

from django.db import models
from django.utils import timezone

from mail import constants


class EmailMessage(models.Model):
    """One message, written by an event handler (queued) and advanced by the sender.

    ``(cause_event_id, kind)`` is unique so an event delivered twice still makes one message; one message of a
    kind per order, too (a second `order.confirmed` of the same order would be a producer's bug, not a reason to
    mail the customer twice). NULL order ids (welcome messages) never collide in a unique index.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cause_event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, choices=constants.KIND_CHOICES)
    to = models.CharField(max_length=254, db_index=True)
    subject = models.CharField(max_length=constants.SUBJECT_MAX_LENGTH)
    body_text = models.TextField()
    body_html = models.TextField()
    status = models.CharField(max_length=10, choices=constants.STATUS_CHOICES, default=constants.STATUS_QUEUED)
    attempts = models.PositiveIntegerField(default=0)  # SMTP tries made (a down server does not use them up)
    last_error = models.TextField(blank=True)
    # When the sender may next try it; while a sender holds it (a claim), a lease deadline in the future.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    order_id = models.CharField(max_length=100, null=True, blank=True)  # indexed by the unique (order_id, kind)
    correlation_id = models.CharField(max_length=100, blank=True)  # of the cause, carried to email.sent/failed
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "mail_message"
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cause_event_id", "kind"], name="mail_one_per_event_and_kind"),
            models.UniqueConstraint(fields=["order_id", "kind"], name="mail_one_per_order_and_kind"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="mail_due")]

    def __str__(self):
        return f"{self.kind} to {self.to} ({self.status})"
