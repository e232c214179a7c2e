"""The one place stock rows get locked: always in primary-key (product id) order, so two transactions that
need overlapping products queue up instead of deadlocking."""
import uuid

from django.db.models import Exists, OuterRef

from catalog.models import Product, Stock


def stock_lock(product_ids, *, with_orderable: bool = False) -> dict[uuid.UUID, Stock]:
    """Lock the stock rows of ``product_ids`` until the transaction ends; return them by product id.

    Must run inside ``transaction.atomic()``. On PostgreSQL and MySQL this is ``SELECT … FOR UPDATE ORDER BY
    product_id``. SQLite has no row locks and Django skips FOR UPDATE there; its IMMEDIATE transactions (see
    shopkit.db) take the database's write lock at BEGIN, so writers are serialised before they read.
    Ids with no stock row (unknown products) are simply absent from the result.

    ``with_orderable`` gives each row an ``orderable`` attribute (its product is active and not deleted) from
    the same statement. It is a subquery, not a join, so FOR UPDATE still locks the stock rows alone.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    if with_orderable:
        rows = rows.annotate(orderable=Exists(
            Product.objects.filter(pk=OuterRef("pk"), active=True, deleted_at__isnull=True)))
    return {stock.pk: stock for stock in rows}

