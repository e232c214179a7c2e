"""SQL statements of the hot paths, spelled out once per database from a model's table and columns.

Every event written or handled, and every order placed, runs them; built by the ORM, each call would resolve and
compile the same statement again, which costs several times what the database spends running it (bench/README.md,
issue 12). The builders here take what the ORM would: the models' tables and columns in the current connection's
quoting (``vendor`` is their cache key), values prepared by the fields (``field.get_db_prep_save``), and rows read
back through the backend's converters (SQLite and MySQL hand back a UUID as text, SQLite a datetime as text)."""
import weakref
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connection, connections


@lru_cache(maxsize=256)
def insert_sql(model, field_names: tuple[str, ...], vendor: str, *, ignore_conflict: bool = False,
               rows: int = 1, returning_pk: bool = False) -> str:
    """``INSERT INTO <model's table> (<the fields' columns>) VALUES (%s, …)`` for the database of ``vendor`` (the
    cache's key: the current connection's quoting is used); ``rows`` rows of values in one statement (their
    parameters one row after the other: ``insert_params``). ``ignore_conflict``: a row that would break a unique
    constraint is not inserted and raises nothing (the cursor's rowcount counts the rows inserted) — ``ON
    CONFLICT DO NOTHING``, or ``INSERT IGNORE`` on MySQL/MariaDB, where IGNORE also turns other errors into
    warnings: use it only where the values are checked first. ``returning_pk``: the statement gives back the new
    rows' primary keys (``RETURNING``, none for a row a conflict skipped) where the database can
    (``connection.features.can_return_columns_from_insert``); elsewhere ask ``connection.ops.last_insert_id``."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in field_names)
    values = ", ".join([f"({', '.join(['%s'] * len(field_names))})"] * rows)
    table = quote(model._meta.db_table)
    verb, suffix = "INSERT INTO", ""
    if ignore_conflict and vendor == "mysql":
        verb = "INSERT IGNORE INTO"
    elif ignore_conflict:
        suffix = " ON CONFLICT DO NOTHING"
    if returning_pk and connection.features.can_return_columns_from_insert:
        suffix += f" {connection.ops.return_insert_columns([model._meta.pk])[0]}"
    return f"{verb} {table} ({columns}) VALUES {values}{suffix}"


def insert_params(model, field_names: tuple[str, ...], rows) -> list:
    """The parameters of ``insert_sql(model, field_names, …, rows=len(rows))``: each row's values (in
    ``field_names`` order) prepared by their fields for the current connection, as the ORM's INSERT prepares them.
    Defaults and ``auto_now`` are not applied: the caller gives every value."""
    fields, db = _fields(model, field_names), _connection()
    return [field.get_db_prep_save(value, db) for row in rows for field, value in zip(fields, row)]


@lru_cache(maxsize=64)
def update_sql(model, field_names: tuple[str, ...], vendor: str) -> str:
    """``UPDATE <model's table> SET <column> = %s, … WHERE <primary key> = %s`` for the database of ``vendor``: the
    parameters are the new values (``insert_params(model, field_names, [values])``), then the primary key."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in field_names)
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"


def select_columns(model, field_names: tuple[str, ...] | None = None) -> str:
    """``<table>.<column>, …`` of ``model``'s fields named (every concrete field by default, in the order
    ``model_instances`` reads them), each qualified by the table so that they can be joined."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = model._meta.concrete_fields if field_names is None else _fields(model, field_names)
    return ", ".join(f"{table}.{quote(field.column)}" for field in fields)


def for_update(*, of: tuple = (), skip_locked: bool = False) -> str:
    """The `` FOR UPDATE`` that ends a SELECT locking its rows until the transaction ends, or nothing where the
    database has no row locks (SQLite: its IMMEDIATE transactions hold the write lock from BEGIN, see shopkit.db).
    ``of``: models whose rows alone are locked (``FOR UPDATE OF``), where the database can say so.
    ``skip_locked``: rows another transaction holds are left out (callers check
    ``connection.features.has_select_for_update_skip_locked`` first)."""
    if not connection.features.has_select_for_update:
        return ""
    tables = ()
    if of and connection.features.has_select_for_update_of:
        tables = tuple(connection.ops.quote_name(model._meta.db_table) for model in of)
    return f" {connection.ops.for_update_sql(of=tables, skip_locked=skip_locked)}"


def converted_rows(fields: tuple, rows) -> list[list]:
    """``rows`` (whose first columns are those of ``fields``, model fields of any models, e.g. of a join) as lists
    of those columns' values, each through the converters the ORM would apply to it; a NULL stays None.
    ``fields`` must be a tuple kept for the purpose (a module's constant): its converters are found once per
    tuple and connection, and kept as long as it."""
    db = _connection()
    converters = _converters(db.ops, fields)
    converted = []
    for row in rows:
        values = list(row[:len(fields)])
        for position, functions, column in converters:
            for function in functions:
                values[position] = function(values[position], column, db)
        converted.append(values)
    return converted


def model_instances(model, rows) -> list:
    """Model instances from ``rows`` that begin with ``model``'s concrete columns (``select_columns(model)``), as
    the ORM makes them: each value through the converters, then ``Model.from_db``."""
    fields, names = _concrete(model)
    return [model.from_db(connection.alias, names, values) for values in converted_rows(fields, rows)]


def _connection():
    # The default connection itself, as the ORM's compilers hand it to fields and converters: through the
    # ``connection`` proxy, each of their many reads of it would look the connection up again.
    return connections[DEFAULT_DB_ALIAS]


@lru_cache(maxsize=None)
def _concrete(model) -> tuple[tuple, list[str]]:
    fields = tuple(model._meta.concrete_fields)
    return fields, [field.attname for field in fields]


@lru_cache(maxsize=256)
def _fields(model, field_names: tuple[str, ...]) -> tuple:
    return tuple(model._meta.get_field(name) for name in field_names)


# The converters of each tuple of fields by connection (they are methods of its backend), found once by the rules
# the ORM's SQLCompiler.get_converters follows; a connection's entry goes with it. Keyed by the tuple's identity
# (hashing model fields costs more than converting a row) and holding the tuple, so that its id stays its own.
_CONVERTERS = weakref.WeakKeyDictionary()


def _converters(ops, fields: tuple) -> list:
    by_fields = _CONVERTERS.setdefault(ops, {})
    entry = by_fields.get(id(fields))
    if entry is None or entry[0] is not fields:
        found = []
        for position, field in enumerate(fields):
            column = field.get_col(field.model._meta.db_table)
            functions = ops.get_db_converters(column) + column.get_db_converters(ops.connection)
            if functions:
                found.append((position, functions, column))
        entry = by_fields[id(fields)] = (fields, found)
    return entry[1]
