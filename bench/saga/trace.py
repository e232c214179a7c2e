"""Run inside a service (`manage.py shell -c`): prints its outbox, inbox and (order) status history as JSON lines.

The saga benchmark joins these across services by event id to see where each order's time went; reading the
databases this way works the same on SQLite, PostgreSQL and MySQL.
"""
import json
import sys

from shopkit.messaging.models import InboxRecord, OutboxMessage


def _iso(value):
    return value.isoformat() if value else None


def dump(out=sys.stdout) -> None:
    for row in OutboxMessage.objects.values_list("event_id", "event_type", "subject", "created_at", "sent_at"):
        out.write(json.dumps({"t": "out", "id": str(row[0]), "type": row[1], "subject": row[2],
                              "created": _iso(row[3]), "sent": _iso(row[4])}) + "\n")
    for row in InboxRecord.objects.values_list("event_id", "event_type", "processed_at"):
        out.write(json.dumps({"t": "in", "id": str(row[0]), "type": row[1], "processed": _iso(row[2])}) + "\n")
    try:
        from orders.models import StatusHistory
    except ImportError:
        return
    for row in StatusHistory.objects.values_list("order_id", "status", "at"):
        out.write(json.dumps({"t": "status", "order": str(row[0]), "status": row[1], "at": _iso(row[2])}) + "\n")


dump()
