"""Writing events: `emit()` stores an event in the caller's transaction and wakes the relay after commit."""
import hashlib
import os
import socket
import tempfile
from functools import lru_cache
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from shopkit.context import current_correlation_id
from shopkit.envelope import Event, build_event
from shopkit.messaging.config import service_name
from shopkit.messaging.models import OutboxMessage
from shopkit.statements import insert_sql

OUTBOX_COLUMNS = ("event_id", "event_type", "subject", "body", "created_at")
_EVENT_ID = OutboxMessage._meta.get_field("event_id")
_SUBJECT_MAX_LENGTH = OutboxMessage._meta.get_field("subject").max_length


def emit(event_type: str, data: dict, *, subject: str = "") -> Event:
    """Record ``event_type`` with payload ``data`` in the outbox, as part of the current transaction.

    Must be called inside ``transaction.atomic()``: the event is published if and only if that transaction
    commits. The payload is checked against its schema first (InvalidEvent if it does not fit).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("emit() must be called inside transaction.atomic(), with the change it reports")
    event = build_event(event_type, data, source=f"/shop/{service_name()}", subject=str(subject),
                        correlation_id=current_correlation_id())
    # One statement spelled out (shopkit.statements): OutboxMessage.objects.create compiled it on every event.
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(OutboxMessage, OUTBOX_COLUMNS, connection.vendor), [
            _EVENT_ID.get_db_prep_value(event.id, connection), event.type, event.subject[:_SUBJECT_MAX_LENGTH],
            event.to_json().decode(), connection.ops.adapt_datetimefield_value(timezone.now())])
    if not _ring_pending():
        transaction.on_commit(ring_doorbell)
    return event


def _ring_pending() -> bool:
    """Whether this transaction will ring the doorbell when it commits already: one ring wakes the relay for
    every row it wrote (a consumer's batch emits dozens), and each ring costs a context switch to the relay.

    Django drops the callbacks of a savepoint that rolls back from this list, so a ring found here is still
    due; one that was dropped with its savepoint is registered again by the next emit."""
    return any(entry[1] is ring_doorbell for entry in connection.run_on_commit)


def doorbell_dir() -> Path:
    """Where relays listening on this outbox keep their wake-up sockets: one folder per database, so the web
    processes and relays of one service find each other whatever their working directories."""
    db = connection.settings_dict
    return _doorbell_dir(f"{db['ENGINE']}|{db.get('HOST', '')}|{db.get('PORT', '')}|{db['NAME']}")


@lru_cache(maxsize=8)
def _doorbell_dir(identity: str) -> Path:
    # Once per process and database: ring_doorbell runs after every committing request.
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"shop-outbox-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def ring_doorbell() -> None:
    """Tell every relay of this database that rows are waiting. Best effort: a relay that misses it polls."""
    try:
        directory = doorbell_dir()
        names = os.listdir(directory)
    except OSError:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for name in names:
            target = directory / name
            try:
                sock.sendto(b"!", str(target))
            except ConnectionRefusedError:
                target.unlink(missing_ok=True)  # nobody listens: a relay that was killed left its socket behind
            except OSError:
                pass  # a full buffer already means "wake up"
