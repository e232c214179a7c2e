"""Kinds and statuses of email messages, and the delivery settings' defaults, in one place."""
from django.conf import settings

from shopkit import hosts

# What a message is about; each customer-facing event makes exactly one message of one kind.
KIND_WELCOME = "welcome"  # user.registered: a new account
KIND_PASSWORD_RESET = "password_reset"  # user.password_reset_requested: a one-time link to set a new password
KIND_ORDER_CONFIRMED = "order_confirmed"  # order.confirmed: stock reserved, the order will ship
KIND_ORDER_REJECTED = "order_rejected"  # order.rejected: stock was short, nothing reserved
KIND_ORDER_CANCELLED = "order_cancelled"  # order.cancelled: by the customer or by staff
KIND_ORDER_SHIPPED = "order_shipped"  # order.shipped: on its way
KIND_ORDER_DELIVERED = "order_delivered"  # order.delivered: arrived
KINDS = (KIND_WELCOME, KIND_PASSWORD_RESET, KIND_ORDER_CONFIRMED, KIND_ORDER_REJECTED, KIND_ORDER_CANCELLED, KIND_ORDER_SHIPPED,
         KIND_ORDER_DELIVERED)
KIND_CHOICES = [(kind, kind.replace("_", " ")) for kind in KINDS]
# Kinds whose body holds a credential (a reset link signs whoever follows it in): the staff API withholds it.
KINDS_WITH_SECRET_BODY = frozenset({KIND_PASSWORD_RESET})
WITHHELD_BODY = "(withheld: this message carries a one-time password-reset link)"

STATUS_QUEUED = "queued"  # waiting for the sender (first try, or a retry after next_attempt_at)
STATUS_SENT = "sent"  # the SMTP server accepted it
STATUS_FAILED = "failed"  # given up: refused for good, or out of attempts; last_error says why
STATUSES = (STATUS_QUEUED, STATUS_SENT, STATUS_FAILED)
STATUS_CHOICES = [(status, status) for status in STATUSES]

SUBJECT_MAX_LENGTH = 255
ERROR_MAX_LENGTH = 2000


def delivery_settings() -> dict:
    """``SHOP_EMAIL`` with its defaults (config/settings.py reads them from the environment)."""
    return {
        "MAX_ATTEMPTS": 8,  # SMTP tries of one message before it is marked failed
        "RETRY_BASE_SECONDS": 10.0,  # try n failed → the next waits base · 2^(n-1), capped at RETRY_MAX_SECONDS
        "RETRY_MAX_SECONDS": 3600.0,
        "POLL_SECONDS": 0.5,  # how often an idle sender looks for due messages
        "BATCH_SIZE": 20,  # messages claimed at once
        # A claim hides the batch from other senders this long; a sender killed mid-batch leaves its unsent
        # messages to be picked up after it. It must comfortably exceed the time one batch takes to send.
        "LEASE_SECONDS": 120.0,
        "SERVER_RETRY_MAX_SECONDS": 30.0,  # ceiling of the wait between attempts to reach a down SMTP server
        **getattr(settings, "SHOP_EMAIL", {}),
    }


def public_url() -> str:
    """Where customers reach the shop (links in messages point there): SHOP_PUBLIC_URL, through shopkit."""
    return hosts.public_url()
