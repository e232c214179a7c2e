"""The test project's handler table: user.registered writes a Note, or raises while a Failure says so."""
import threading
import time
from collections import Counter

from django.db import OperationalError, connection

from shopkit import events
from shopkit.messaging.handling import EventRefused, Handler
from tests.kitapp.models import Failure, Note
from tests.kitapp.outage import take_database_away

# Calls per key, kept in memory: the consumer runs in the test's process, and a row would roll back with
# the failing handler's transaction.
CALLS: Counter = Counter()
SLOW_STARTED = threading.Event()  # set when the slow handler has begun, for the clean-stop test


class Flaky(Exception):
    pass


def note_write_for_user(event):
    key = event.data["user_id"]
    CALLS[key] += 1
    if key.startswith("dbdown-") and CALLS[key] == 1:
        # The server goes away under the handler: its connection dies, and no new one can be made until the
        # test brings the database back.
        take_database_away()
        raise OperationalError("server closed the connection unexpectedly")
    if key.startswith("dberror-"):
        database_error_from_a_healthy_server()
    if key.startswith("refused-"):
        raise EventRefused(f"{key} can never be noted")  # a failure no retry can mend
    if Failure.objects.filter(key=key).exists():
        raise Flaky(f"told to fail for {key}")
    if event.data["name"] == "slow":
        SLOW_STARTED.set()
        time.sleep(1.0)  # long enough for a test to ask the consumer to stop meanwhile
    Note.objects.create(key=key, text=event.data["name"])


def database_error_from_a_healthy_server() -> None:
    """Make the database itself raise an OperationalError while it is up and answering: a deadlock victim on
    PostgreSQL and MySQL, a missing table on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'chosen as deadlock victim' USING ERRCODE = '40P01'; END $$")
        elif connection.vendor == "mysql":
            cursor.execute("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'Deadlock found'")
        else:
            cursor.execute("SELECT * FROM kitapp_no_such_table")


def note_write_for_deleted_product(event):
    Note.objects.create(key=event.data["product_id"], text="deleted")


HANDLERS = {
    events.USER_REGISTERED: Handler("note_write_for_user", note_write_for_user),
    events.PRODUCT_DELETED: Handler("note_write_for_deleted_product", note_write_for_deleted_product),
}
