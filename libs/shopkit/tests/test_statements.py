"""shopkit.statements and the rows written through it: what the ORM would have written, read back by the ORM."""
import uuid
from datetime import datetime, timedelta, timezone as tz

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from shopkit import events
from shopkit.messaging.models import InboxRecord, OutboxMessage
from shopkit.messaging.outbox import emit
from shopkit.statements import (converted_rows, for_update, insert_params, insert_sql, model_instances,
                                select_columns, update_sql)


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


OUTBOX_NAMES = ("event_id", "event_type", "subject", "body", "created_at", "sent_at")


def test_an_insert_of_several_rows_has_one_group_of_placeholders_per_row():
    sql = insert_sql(InboxRecord, ("event_id", "handler"), connection.vendor, rows=3)
    assert sql.endswith(" VALUES (%s, %s), (%s, %s), (%s, %s)")
    assert insert_sql(InboxRecord, ("event_id",), "mysql", ignore_conflict=True, rows=2).endswith(
        " VALUES (%s), (%s)")


def _outbox_rows(count):
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=tz.utc)
    return [[uuid.uuid4(), f"test.{n}", f"s-{n}", "{}", at + timedelta(seconds=n), None if n % 2 else at]
            for n in range(count)]


def _insert(model, names, rows, **options):
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(model, names, connection.vendor, rows=len(rows), **options),
                       insert_params(model, names, rows))
        return cursor.rowcount


@pytest.mark.django_db
def test_rows_inserted_in_one_statement_read_back_by_the_orm_as_given():
    rows = _outbox_rows(3)
    with CaptureQueriesContext(connection) as queries:
        assert _insert(OutboxMessage, OUTBOX_NAMES, rows) == 3
    assert len(queries) == 1
    read = OutboxMessage.objects.order_by("id")
    assert [[getattr(row, name) for name in OUTBOX_NAMES] for row in read] == rows


@pytest.mark.django_db
def test_a_conflicting_row_of_several_is_left_out_and_the_others_are_inserted():
    first, second = _outbox_rows(2)
    _insert(OutboxMessage, OUTBOX_NAMES, [first])
    again = [first[0], "test.again", *first[2:]]  # the same (unique) event id

    assert _insert(OutboxMessage, OUTBOX_NAMES, [again, second], ignore_conflict=True) == 1
    assert sorted(OutboxMessage.objects.values_list("event_type", flat=True)) == [first[1], second[1]]


@pytest.mark.django_db
def test_an_update_sets_the_named_columns_of_the_row_with_that_primary_key():
    rows = _outbox_rows(2)
    _insert(OutboxMessage, OUTBOX_NAMES, rows)
    target, other = OutboxMessage.objects.order_by("id")
    sent = datetime(2026, 2, 3, 4, 5, 6, tzinfo=tz.utc)
    with connection.cursor() as cursor:
        cursor.execute(update_sql(OutboxMessage, ("subject", "sent_at"), connection.vendor),
                       [*insert_params(OutboxMessage, ("subject", "sent_at"), [["changed", sent]]), target.pk])
        assert cursor.rowcount == 1
    assert OutboxMessage.objects.get(pk=target.pk).sent_at == sent
    assert OutboxMessage.objects.get(pk=target.pk).subject == "changed"
    assert OutboxMessage.objects.get(pk=other.pk).subject == other.subject


def _select_all(model, columns):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {table}.{connection.ops.quote_name('id')}")
        return cursor.fetchall()


@pytest.mark.django_db
def test_rows_read_with_the_models_columns_become_instances_equal_to_the_orms():
    _insert(OutboxMessage, OUTBOX_NAMES, _outbox_rows(2))
    expected = list(OutboxMessage.objects.order_by("id"))

    instances = model_instances(OutboxMessage, _select_all(OutboxMessage, select_columns(OutboxMessage)))

    fields = [field.attname for field in OutboxMessage._meta.concrete_fields]
    assert [[getattr(one, name) for name in fields] for one in instances] == \
        [[getattr(one, name) for name in fields] for one in expected]
    assert isinstance(instances[0].event_id, uuid.UUID) and instances[0].created_at.tzinfo is not None
    assert [(one._state.adding, one._state.db) for one in instances] == [(False, connection.alias)] * 2


CONVERTED_FIELDS = tuple(OutboxMessage._meta.get_field(name) for name in ("sent_at", "event_id", "subject"))


@pytest.mark.django_db
def test_named_columns_convert_as_the_orm_converts_them_and_null_stays_none():
    _insert(OutboxMessage, OUTBOX_NAMES, _outbox_rows(2))
    # a trailing column that is not one of the fields is left out
    columns = f"{select_columns(OutboxMessage, ('sent_at', 'event_id', 'subject'))}, 1"

    rows = converted_rows(CONVERTED_FIELDS, _select_all(OutboxMessage, columns))

    assert rows == [list(row) for row in OutboxMessage.objects.order_by("id").values_list("sent_at", "event_id",
                                                                                           "subject")]
    assert rows[1][0] is None and isinstance(rows[0][0], datetime) and isinstance(rows[0][1], uuid.UUID)


def test_for_update_is_what_the_database_can_lock_with():
    if not connection.features.has_select_for_update:
        assert for_update() == for_update(of=(OutboxMessage,)) == ""
        return
    assert for_update() == f" {connection.ops.for_update_sql()}"
    if connection.features.has_select_for_update_of:
        assert for_update(of=(OutboxMessage,)) == f" FOR UPDATE OF {connection.ops.quote_name('shopkit_outbox')}"
    else:
        assert for_update(of=(OutboxMessage,)) == for_update()


@pytest.mark.django_db(transaction=True)
def test_a_select_ending_in_for_update_of_a_model_runs_on_the_database():
    _insert(OutboxMessage, OUTBOX_NAMES, _outbox_rows(1))
    table = connection.ops.quote_name("shopkit_outbox")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {select_columns(OutboxMessage)} FROM {table}{for_update(of=(OutboxMessage,))}")
            (locked,) = model_instances(OutboxMessage, cursor.fetchall())
    assert locked == OutboxMessage.objects.get()


@pytest.mark.django_db
def test_an_insert_returning_its_primary_key_gives_the_new_rows_id_and_none_for_a_skipped_conflict():
    if not connection.features.can_return_columns_from_insert:
        pytest.skip("this database gives no RETURNING; callers ask last_insert_id")  # SQLite < 3.35 only
    row = _outbox_rows(1)[0]
    sql = insert_sql(OutboxMessage, OUTBOX_NAMES, connection.vendor, ignore_conflict=True, returning_pk=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, insert_params(OutboxMessage, OUTBOX_NAMES, [row]))
        (new_id,) = cursor.fetchone()
        cursor.execute(sql, insert_params(OutboxMessage, OUTBOX_NAMES, [row]))  # the same unique event id
        skipped = cursor.fetchone()
    assert new_id == OutboxMessage.objects.get().id
    assert skipped is None


def test_skip_locked_is_part_of_the_lock_where_the_database_has_it():
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("this database cannot skip locked rows")
    assert for_update(skip_locked=True) == f" {connection.ops.for_update_sql(skip_locked=True)}"
    assert "SKIP LOCKED" in for_update(skip_locked=True)
