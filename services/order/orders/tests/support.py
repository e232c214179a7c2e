"""Helpers the orders tests share: a valid shipping address, and a look at what a test wrote to the outbox."""
import json

from shopkit.messaging.models import OutboxMessage

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


def outbox(event_type=None, subject=None) -> list[dict]:
    """The events written to the outbox, oldest first, as their CloudEvents envelopes."""
    rows = OutboxMessage.objects.order_by("id")
    if event_type:
        rows = rows.filter(event_type=event_type)
    if subject:
        rows = rows.filter(subject=str(subject))
    return [json.loads(row.body) for row in rows]
