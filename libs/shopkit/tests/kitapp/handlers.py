"""The test project's handler table: user.registered writes a Note, or raises while a Failure says so."""
import threading
import time
from collections import Counter

from django.db import OperationalError

from shopkit import events
from tests.kitapp.models import Failure, Note

# Calls per key, kept in memory: the consumer runs in the test's process, and a row would roll back with
# the failing handler's transaction.
CALLS: Counter = Counter()
SLOW_STARTED = threading.Event()  # set when the slow handler has begun, for the clean-stop test


class Flaky(Exception):
    pass


def note_write_for_user(event):
    key = event.data["user_id"]
    CALLS[key] += 1
    if key.startswith("dbdown-") and CALLS[key] <= 5:
        raise OperationalError("server closed the connection unexpectedly")  # what a database outage raises
    if Failure.objects.filter(key=key).exists():
        raise Flaky(f"told to fail for {key}")
    if event.data["name"] == "slow":
        SLOW_STARTED.set()
        time.sleep(1.0)  # long enough for a test to ask the consumer to stop meanwhile
    Note.objects.create(key=key, text=event.data["name"])


def note_write_for_deleted_product(event):
    Note.objects.create(key=event.data["product_id"], text="deleted")


HANDLERS = {
    events.USER_REGISTERED: note_write_for_user,
    events.PRODUCT_DELETED: note_write_for_deleted_product,
}
