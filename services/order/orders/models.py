"""The order service's tables: orders with their lines and status history, the product replica, idempotency keys."""
import uuid

from django.db import models

from orders import constants


class Order(models.Model):
    """One customer's order; the customer's id, email and name are copied from the access token at placement."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_id = models.CharField(max_length=100, db_index=True)
    customer_email = models.CharField(max_length=254)
    customer_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=constants.STATUS_CHOICES, default=constants.PENDING)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    # {name, line1, line2, city, postal_code, country}: shown and mailed as a whole, never queried by field.
    shipping_address = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer_id", "-created_at"], name="order_customer_recent"),
            models.Index(fields=["status", "-created_at"], name="order_status_recent"),
        ]

    def __str__(self):
        return f"order {self.id} ({self.status})"


class OrderLine(models.Model):
    """A snapshot of the product as it was when the order was placed: later price changes do not touch it."""

    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField()
    product_id = models.CharField(max_length=100)
    sku = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_once"),
            models.UniqueConstraint(fields=["order", "product_id"], name="order_line_product_once"),
        ]


class StatusHistory(models.Model):
    """One row per status an order entered, the first being ``pending`` at placement."""

    order = models.ForeignKey(Order, related_name="history", on_delete=models.CASCADE)
    status = models.CharField(max_length=20, choices=constants.STATUS_CHOICES)
    at = models.DateTimeField()
    reason = models.CharField(max_length=constants.REASON_MAX_LENGTH, blank=True)
    # The request (or the event chain it started) that caused the change: shown on the timeline, and what to
    # grep the logs for. Empty for changes made before it was recorded.
    correlation_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["order", "at", "id"]


class OrderEmail(models.Model):
    """A message the email service sent or gave up on for an order, as its ``email.sent``/``email.failed`` said.

    Kept for the order's timeline. ``order_id`` is no foreign key: the news comes from another service, and
    recording it never depends on this service's rows (an event about an order it never had is kept, not refused).
    """

    email_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=30)
    to = models.CharField(max_length=254)
    outcome = models.CharField(max_length=10, choices=constants.EMAIL_OUTCOME_CHOICES)
    at = models.DateTimeField()  # when the email service decided the outcome (the event's time)
    correlation_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["order_id", "at", "id"]
        constraints = [models.UniqueConstraint(fields=["email_id", "outcome"], name="order_email_outcome_once")]


class ProductReplica(models.Model):
    """What the order service knows of a product, kept from ``product.*`` events.

    ``version`` is the product's own counter: an event applies only when it is newer than the row, so events that
    arrive out of order (a retry, a replay from the parking queue) never turn the replica back in time.
    A deleted product stays as a tombstone (``deleted``) so a late ``product.updated`` cannot resurrect it.
    """

    product_id = models.CharField(max_length=100, primary_key=True)
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    active = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    version = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def orderable(self) -> bool:
        return self.active and not self.deleted


class IdempotencyRecord(models.Model):
    """A customer's ``Idempotency-Key`` and the request it first came with; the unique pair is what stops two
    simultaneous requests with one key from placing two orders."""

    customer_id = models.CharField(max_length=100)
    key = models.CharField(max_length=constants.IDEMPOTENCY_KEY_MAX_LENGTH)
    fingerprint = models.CharField(max_length=64)  # sha256 of the request body in canonical JSON
    order = models.ForeignKey(Order, related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer_id", "key"], name="idempotency_key_once")]
