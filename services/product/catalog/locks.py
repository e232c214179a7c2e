"""The one place stock rows get locked: always in primary-key (product id) order, so two transactions that
need overlapping products queue up instead of deadlocking."""
import uuid

from catalog.models import Stock


def stock_lock(product_ids) -> dict[uuid.UUID, Stock]:
    """Lock the stock rows of ``product_ids`` until the transaction ends; return them by product id.

    Must run inside ``transaction.atomic()``. On PostgreSQL and MySQL this is ``SELECT … FOR UPDATE ORDER BY
    product_id``. SQLite has no row locks and Django skips FOR UPDATE there; its IMMEDIATE transactions (see
    shopkit.db) take the database's write lock at BEGIN, so writers are serialised before they read.
    Ids with no stock row (unknown products) are simply absent from the result.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {stock.pk: stock for stock in rows}
