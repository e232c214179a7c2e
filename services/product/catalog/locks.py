"""The one place catalog rows get locked: stock rows always in primary-key (product id) order, so two transactions
that need overlapping products queue up instead of deadlocking; and an order's reservation row.

The two SELECTs are spelled out once per kind of database (``vendor``, the builders' cache key) and number of
rows, from the models' tables and columns, rather than built by the ORM: every saga step runs them, and the ORM
would resolve and compile the same expression tree afresh each time (more CPU than the database spends on them)."""
import uuid
from functools import lru_cache

from django.db import connection

from shopkit.statements import for_update, model_instances, select_columns

from catalog.models import Product, Reservation, Stock


def stock_lock(product_ids, *, with_orderable: bool = False) -> dict[uuid.UUID, Stock]:
    """Lock the stock rows of ``product_ids`` until the transaction ends; return them by product id.

    Must run inside ``transaction.atomic()``. On PostgreSQL and MySQL this is ``SELECT … FOR UPDATE ORDER BY
    product_id``. SQLite has no row locks (FOR UPDATE is left out there, as Django does); its IMMEDIATE
    transactions (see shopkit.db) take the database's write lock at BEGIN, so writers are serialised before they
    read. Ids with no stock row (unknown products) are simply absent from the result.

    ``with_orderable`` gives each row an ``orderable`` attribute (its product is active and not deleted) from
    the same statement. It is a subquery, not a join, so FOR UPDATE still locks the stock rows alone.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    pk = Stock._meta.pk
    params = [True] if with_orderable else []  # Product.active: the subquery comes before the ids in the text
    params += [pk.get_db_prep_value(product_id, connection) for product_id in ids]
    with connection.cursor() as cursor:
        cursor.execute(_stock_lock_sql(connection.vendor, len(ids), with_orderable), params)
        rows = cursor.fetchall()
    stocks = model_instances(Stock, rows)
    if with_orderable:
        for stock, row in zip(stocks, rows):
            stock.orderable = bool(row[-1])  # 1/0 on SQLite and MySQL
    return {stock.pk: stock for stock in stocks}


def reservation_lock(order_id: str) -> Reservation | None:
    """Lock the reservation of ``order_id`` until the transaction ends (None when the order has none yet)."""
    with connection.cursor() as cursor:
        cursor.execute(_reservation_lock_sql(connection.vendor), [order_id])
        rows = cursor.fetchall()
    return model_instances(Reservation, rows)[0] if rows else None


@lru_cache(maxsize=128)
def _stock_lock_sql(vendor: str, count: int, with_orderable: bool) -> str:
    quote = connection.ops.quote_name
    stock, product = quote(Stock._meta.db_table), quote(Product._meta.db_table)
    stock_pk = f"{stock}.{quote(Stock._meta.pk.column)}"
    orderable = ""
    if with_orderable:
        orderable = (f", EXISTS (SELECT 1 FROM {product} WHERE {product}.{quote(Product._meta.pk.column)} = "
                     f"{stock_pk} AND {product}.{quote(Product._meta.get_field('active').column)} = %s AND "
                     f"{product}.{quote(Product._meta.get_field('deleted_at').column)} IS NULL)")
    placeholders = ", ".join(["%s"] * count)
    return (f"SELECT {select_columns(Stock)}{orderable} FROM {stock} WHERE {stock_pk} IN ({placeholders}) "
            f"ORDER BY {stock_pk}{for_update()}")


@lru_cache(maxsize=None)
def _reservation_lock_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    table = quote(Reservation._meta.db_table)
    order_id = quote(Reservation._meta.get_field("order_id").column)
    return f"SELECT {select_columns(Reservation)} FROM {table} WHERE {table}.{order_id} = %s{for_update()}"
