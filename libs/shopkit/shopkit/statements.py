"""SQL statements of the messaging hot paths, spelled out once per database from a model's table and columns.

Every event written or handled runs them; built by the ORM, each call would resolve and compile the same
statement again, which costs several times what the database spends running it (bench/README.md, issue 12)."""
from functools import lru_cache

from django.db import connection


@lru_cache(maxsize=32)
def insert_sql(model, field_names: tuple[str, ...], vendor: str, *, ignore_conflict: bool = False) -> str:
    """``INSERT INTO <model's table> (<the fields' columns>) VALUES (%s, …)`` for the database of ``vendor`` (the
    cache's key: the current connection's quoting is used). ``ignore_conflict``: a row that would break a unique
    constraint is not inserted and raises nothing (the cursor's rowcount is 0) — ``ON CONFLICT DO NOTHING``, or
    ``INSERT IGNORE`` on MySQL/MariaDB, where IGNORE also turns other errors into warnings: use it only where the
    values are checked first."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in field_names)
    values = ", ".join(["%s"] * len(field_names))
    table = quote(model._meta.db_table)
    if ignore_conflict and vendor == "mysql":
        return f"INSERT IGNORE INTO {table} ({columns}) VALUES ({values})"
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflict else ""
    return f"INSERT INTO {table} ({columns}) VALUES ({values}){suffix}"
