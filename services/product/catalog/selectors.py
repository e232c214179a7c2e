"""Reads of the catalog, built for the hottest endpoint: one query per page of rows, plain rows → JSON."""
import uuid
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Value, Window
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from shopkit.rendering import compile_shape, field_sources

from catalog import constants
from catalog.models import Category, Product, Stock
from catalog.serializers import ProductSerializer


# The product's shape is ProductSerializer's; rendering a page through DRF's field machinery costs several
# times the query, so the shape is compiled once (shopkit.rendering) and the rows of the columns its fields
# name are rendered by it. tests/test_apis.py checks the result equals the serializer's own output.
product_json = compile_shape(ProductSerializer)
products_json = compile_shape(ProductSerializer, many=True)
_COLUMNS = field_sources(ProductSerializer)
# `available` is computed by the database, in the same query
_AVAILABLE = Coalesce(F("stock__on_hand"), Value(0)) - Coalesce(F("stock__reserved"), Value(0))


def category_list() -> list[dict]:
    return [{"slug": slug, "name": name} for slug, name in Category.objects.values_list("slug", "name")]


def product_list(*, search: str = "", category: str = "", min_price: Decimal | None = None,
                 max_price: Decimal | None = None, in_stock: bool | None = None,
                 ordering: str = constants.DEFAULT_ORDERING, include_inactive: bool = False) -> QuerySet:
    """Products (never deleted ones; inactive ones only with ``include_inactive``) as rows of the product's
    columns for ``product_json``: no model instances, no N+1, category and stock joined in the same query."""
    rows = Product.objects.filter(deleted_at__isnull=True)
    if not include_inactive:
        rows = rows.filter(active=True)
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(sku__icontains=search) | Q(description__icontains=search))
    if category:
        rows = rows.filter(category__slug=category)
    if min_price is not None:
        rows = rows.filter(price__gte=min_price)
    if max_price is not None:
        rows = rows.filter(price__lte=max_price)
    if in_stock is True:
        rows = rows.filter(stock__on_hand__gt=F("stock__reserved"))
    elif in_stock is False:
        rows = rows.filter(Q(stock__isnull=True) | Q(stock__on_hand__lte=F("stock__reserved")))
    return rows.annotate(available=_AVAILABLE).order_by(*constants.ORDERINGS[ordering]).values(*_COLUMNS)


def product_page(rows: QuerySet, offset: int, limit: int) -> tuple[int, list[dict]]:
    """The total count of ``product_list`` rows and ``limit`` of them from ``offset``, as JSON, in one query:
    the count rides along as a window function instead of a second ``SELECT COUNT(*)``."""
    page = list(rows.annotate(total=Window(Count("pk")))[offset:offset + limit])
    return (page[0]["total"] if page else 0), products_json(page)


def product_get(*, product_id: uuid.UUID, include_inactive: bool = False) -> dict | None:
    """One product as the API shows it, or None if it is unknown, deleted, or inactive (unless asked for)."""
    rows = Product.objects.filter(pk=product_id, deleted_at__isnull=True)
    if not include_inactive:
        rows = rows.filter(active=True)
    row = rows.annotate(available=_AVAILABLE).values(*_COLUMNS).first()
    return product_json(row) if row else None


def stock_levels(*, product_id: uuid.UUID) -> dict | None:
    """``{on_hand, reserved, available}`` of a product that is not deleted, else None."""
    row = (Stock.objects.filter(pk=product_id, product__deleted_at__isnull=True)
           .values_list("on_hand", "reserved").first())
    if row is None:
        return None
    return {"on_hand": row[0], "reserved": row[1], "available": row[0] - row[1]}


def catalog_state() -> tuple[str, datetime | None]:
    """The catalog's version and when it last changed, in one cheap statement: the list's validators.

    The version counts every change: it is the sum of every product's ``version`` and every stock row's
    ``revision``. Each committed change raises one of them and nothing lowers them (products are never
    removed), so the sum strictly grows in commit order and two states never share it, even when concurrent
    transactions commit out of timestamp order (why MAX(updated_at) alone would not do as an ETag). The newest
    timestamp is part of the version too, so a database reset to an older state never repeats a version.
    """
    product_table = Product._meta.db_table
    stock_table = Stock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(  # noqa: S608 - only our own table names are interpolated
            f"SELECT (SELECT COALESCE(SUM(version), 0) FROM {product_table}), "
            f"(SELECT COALESCE(SUM(revision), 0) FROM {stock_table}), "
            f"(SELECT MAX(updated_at) FROM {product_table}), "
            f"(SELECT MAX(updated_at) FROM {stock_table})")
        versions, revisions, product_stamp, stock_stamp = cursor.fetchone()
    stamps = [stamp for stamp in (_as_datetime(product_stamp), _as_datetime(stock_stamp)) if stamp is not None]
    changed_at = max(stamps) if stamps else None
    return f"{int(versions) + int(revisions)}@{changed_at.isoformat() if changed_at else '-'}", changed_at


def _as_datetime(value) -> datetime | None:
    # A raw cursor skips the ORM's converters: SQLite hands back text, the server databases datetimes.
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt_timezone.utc)
    parsed = parse_datetime(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt_timezone.utc)

