"""Outbox rows (events waiting to be published), the relay lease, and inbox records (events already handled)."""
from django.db import models


class OutboxMessage(models.Model):
    """One event, written in the same transaction as the change it reports; published later by the relay."""

    id = models.BigAutoField(primary_key=True)  # publication order
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=100)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()  # the CloudEvents envelope exactly as it goes on the wire
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "shopkit_outbox"
        indexes = [models.Index(fields=["sent_at", "id"], name="shopkit_outbox_pending")]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class RelayLease(models.Model):
    """A single row that the active relay replica locks while it publishes, so replicas never interleave and
    the events leave in the order they were written."""

    name = models.CharField(max_length=50, primary_key=True)

    class Meta:
        db_table = "shopkit_relay_lease"


class InboxRecord(models.Model):
    """Proof that ``handler`` has applied event ``event_id``; written in the handler's own transaction."""

    event_id = models.CharField(max_length=100)
    handler = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shopkit_inbox"
        constraints = [models.UniqueConstraint(fields=["event_id", "handler"], name="shopkit_inbox_once")]
