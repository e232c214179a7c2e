"""shopkit.statements and the rows written through it: what the ORM would have written, read back by the ORM."""
import uuid

import pytest
from django.db import connection, transaction

from shopkit import events
from shopkit.messaging.models import InboxRecord, OutboxMessage
from shopkit.messaging.outbox import emit
from shopkit.statements import insert_sql


def test_an_insert_names_the_models_table_and_columns_in_the_databases_quoting():
    sql = insert_sql(InboxRecord, ("event_id", "handler"), connection.vendor)
    quote = connection.ops.quote_name
    assert sql == (f"INSERT INTO {quote('shopkit_inbox')} ({quote('event_id')}, {quote('handler')}) "
                   f"VALUES (%s, %s)")


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_ignoring_a_conflict_is_on_conflict_do_nothing_where_the_database_has_it(vendor):
    assert insert_sql(InboxRecord, ("event_id",), vendor, ignore_conflict=True).endswith(" ON CONFLICT DO NOTHING")


def test_ignoring_a_conflict_is_insert_ignore_on_mysql():
    assert insert_sql(InboxRecord, ("event_id",), "mysql", ignore_conflict=True).startswith("INSERT IGNORE INTO ")


@pytest.mark.django_db
def test_an_emitted_event_reads_back_as_the_orm_would_have_written_it():
    with transaction.atomic():
        event = emit(events.USER_REGISTERED, {"user_id": "u-1", "email": "a@example.com", "name": "A"},
                     subject="u-1" * 100)
    row = OutboxMessage.objects.get(event_id=event.id)
    assert row.event_id == uuid.UUID(event.id)
    assert (row.event_type, row.sent_at) == (events.USER_REGISTERED, None)
    assert row.subject == ("u-1" * 100)[:200]
    assert row.body == event.to_json().decode()
    assert row.created_at.tzinfo is not None
    assert OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id").last() == row
