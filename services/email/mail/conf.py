"""The email service's own settings: their defaults, written once, and how the code reads them."""
from django.conf import settings

from shopkit import hosts

# SHOP_EMAIL (environment: SHOP_EMAIL_<NAME>): how the sender delivers.
DELIVERY = {
    "MAX_ATTEMPTS": 8,  # SMTP tries of one message before it is marked failed
    "RETRY_BASE_SECONDS": 10.0,  # try n failed → the next waits base · 2^(n-1), capped at RETRY_MAX_SECONDS
    "RETRY_MAX_SECONDS": 3600.0,
    "POLL_SECONDS": 0.5,  # how often an idle sender looks for due messages
    "BATCH_SIZE": 20,  # messages claimed at once
    # A claim hides the batch from other senders this long; a sender killed mid-batch leaves its unsent
    # messages to be picked up after it. It must comfortably exceed the time one batch takes to send.
    "LEASE_SECONDS": 120.0,
    "SERVER_RETRY_MAX_SECONDS": 30.0,  # ceiling of the wait between attempts to reach a down SMTP server
}


def delivery_settings() -> dict:
    """``SHOP_EMAIL`` with its defaults."""
    return {**DELIVERY, **getattr(settings, "SHOP_EMAIL", {})}


def public_url() -> str:
    """Where customers reach the shop (links in messages point there)."""
    return hosts.public_url()  # SHOP_PUBLIC_URL, read once by shopkit
