"""Order writes: placement, the saga's transitions, the product replica; each one transaction with its events."""
import uuid
from dataclasses import dataclass, fields as dataclass_fields
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shopkit import events, metrics
from shopkit.context import current_correlation_id
from shopkit.logging import get_logger
from shopkit.messaging.handling import EventRefused, effect_transaction
from shopkit.messaging.outbox import emit
from shopkit.problems import ApplicationError, Conflict, NotFound
from shopkit.statements import (converted_rows, for_update, insert_params, insert_sql, model_instances,
                                select_columns, update_sql)

from orders import constants
from orders.models import IdempotencyRecord, Order, OrderEmail, OrderLine, ProductReplica, StatusHistory

log = get_logger(__name__)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Customer:
    """Who places an order, as the access token says (``shopkit.auth.TokenUser`` fits)."""

    id: str
    email: str
    name: str = ""


class IdempotencyKeyReused(ApplicationError):
    def __init__(self):
        super().__init__("This Idempotency-Key was already used with a different request body.", status=422,
                         code="idempotency-key-reused")


# --- placement ----------------------------------------------------------------------------------------------------

def order_place(*, customer: Customer, items: list[dict], shipping_address: dict, idempotency_key: str = "",
                fingerprint: str = "") -> tuple[Order, bool]:
    """Place an order of ``items`` ([{product_id, quantity}]) as ``pending``; emits ``order.placed``.

    Lines naming the same product are merged into one line (quantities added, first position kept); the merged
    quantity must still be within 1–100. Every product must be known to the replica, active, and priced in the
    currency of the others. Name and price are snapshotted from the replica.

    With an ``idempotency_key``, a repeated request (same key, same ``fingerprint``) returns the order the first
    one placed, and ``created`` is False; the unique (customer, key) row makes two simultaneous requests place one
    order between them. A new order also carries the rows its transaction wrote (``rows_written``, for
    ``selectors.order_as_placed``).

    Raises ApplicationError 400 (``errors.items[i]`` says what is wrong with line i), IdempotencyKeyReused (422)
    when the key came with another body before.
    """
    if idempotency_key:
        earlier = _order_for_idempotency_key(customer_id=customer.id, key=idempotency_key, fingerprint=fingerprint)
        if earlier is not None:
            return earlier, False
    # Checked and priced before the transaction: on SQLite it holds the service's one write lock from BEGIN, and
    # the replica is read the same either way (it may change a moment later in both cases; the snapshot is what
    # the order was placed at).
    lines = _priced_lines(items)
    try:
        with transaction.atomic():
            order = _order_create(customer=customer, lines=lines, shipping_address=shipping_address)
            if idempotency_key:
                IdempotencyRecord.objects.create(customer_id=customer.id, key=idempotency_key,
                                                 fingerprint=fingerprint, order=order)
    except IntegrityError:
        if not idempotency_key:
            raise
        # Another request with this key committed first (we waited on its row): answer as a repeat of it.
        earlier = _order_for_idempotency_key(customer_id=customer.id, key=idempotency_key, fingerprint=fingerprint)
        if earlier is None:
            raise
        return earlier, False
    log.info("order placed", order_id=str(order.id), total=str(order.total), lines=len(lines))
    return order, True


def _order_for_idempotency_key(*, customer_id: str, key: str, fingerprint: str) -> Order | None:
    record = IdempotencyRecord.objects.select_related("order").filter(customer_id=customer_id, key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return record.order


# What placing an order writes, spelled out (shopkit.statements): through the ORM, compiling its three INSERTs
# cost more than the rest of the POST's own work.
_ORDER_NAMES = tuple(field.attname for field in Order._meta.concrete_fields)
_LINE_NAMES = ("order_id", "position", "product_id", "sku", "name", "unit_price", "quantity", "line_total")
_HISTORY_NAMES = ("order_id", "status", "at", "reason", "correlation_id")


def _order_create(*, customer: Customer, lines: list[dict], shipping_address: dict) -> Order:
    """Insert the order, its lines (one statement) and its first status, and emit order.placed: four INSERTs."""
    total = sum((line["line_total"] for line in lines), Decimal("0.00"))
    order = Order(  # its id from the model's default (uuid4), as create() would have it
        customer_id=customer.id, customer_email=customer.email, customer_name=customer.name or "",
        status=constants.PENDING, currency=lines[0]["currency"], total=total,
        shipping_address=_address(shipping_address),
    )
    # What save() would set (auto_now_add, then auto_now: each field takes its own now, in the fields' order).
    order.created_at = timezone.now()
    order.updated_at = timezone.now()
    history = {"status": constants.PENDING, "at": order.created_at, "reason": constants.REASON_PLACED,
               "correlation_id": _correlation_id()}
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(Order, _ORDER_NAMES, vendor),
                       insert_params(Order, _ORDER_NAMES, [[getattr(order, name) for name in _ORDER_NAMES]]))
        cursor.execute(insert_sql(OrderLine, _LINE_NAMES, vendor, rows=len(lines)), insert_params(
            OrderLine, _LINE_NAMES,
            [[order.id, position, *(line[name] for name in _LINE_NAMES[2:])] for position, line in enumerate(lines)]))
        cursor.execute(insert_sql(StatusHistory, _HISTORY_NAMES, vendor), insert_params(
            StatusHistory, _HISTORY_NAMES, [[order.id, *(history[name] for name in _HISTORY_NAMES[1:])]]))
    order._state.adding, order._state.db = False, connection.alias  # saved, as create() leaves it
    # The rows as written, for the 201 answer (selectors.order_as_placed): no need to read them back. A priced
    # line has the keys of a line's columns that the answer shows.
    order.rows_written = {"lines": lines, "history": [history]}
    emit(events.ORDER_PLACED, {
        "order_id": str(order.id),
        "customer_id": order.customer_id,
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "items": _event_items(lines),
        "total": _money(order.total),
        "currency": order.currency,
    }, subject=str(order.id))
    return order


def _priced_lines(items: list[dict]) -> list[dict]:
    """Merge repeated products, check every line against the replica, and price it; raise 400 with per-line errors."""
    if not items:
        raise ApplicationError("An order needs at least one line.", code="validation",
                               errors={"items": ["An order needs at least one line."]})
    if len(items) > constants.MAX_LINES:
        raise ApplicationError(f"An order has at most {constants.MAX_LINES} lines.", code="validation",
                               errors={"items": [f"An order has at most {constants.MAX_LINES} lines."]})
    merged: dict[str, dict] = {}  # product id → summed quantity and the request lines naming it, in first-seen order
    for index, item in enumerate(items):
        product_id = str(item["product_id"])
        entry = merged.setdefault(product_id, {"quantity": 0, "indexes": []})
        entry["quantity"] += int(item["quantity"])
        entry["indexes"].append(index)
    replicas = _replicas(list(merged))

    errors: list[dict] = [{} for _ in items]
    lines = []
    currency = None
    for product_id, entry in merged.items():
        first = entry["indexes"][0]
        replica = replicas.get(product_id)
        if replica is None:
            errors[first]["product_id"] = ["Unknown product."]
            continue
        if not replica.orderable:
            errors[first]["product_id"] = ["This product is not available."]
            continue
        quantity = entry["quantity"]
        if not constants.MIN_QUANTITY <= quantity <= constants.MAX_QUANTITY:
            for index in entry["indexes"]:
                errors[index]["quantity"] = [
                    f"Between {constants.MIN_QUANTITY} and {constants.MAX_QUANTITY} of one product per order "
                    f"(lines of the same product are added up)."]
            continue
        currency = currency or replica.currency
        if replica.currency != currency:
            errors[first]["product_id"] = [
                f"This product is priced in {replica.currency}; an order has one currency ({currency})."]
            continue
        lines.append({
            "product_id": product_id, "sku": replica.sku, "name": replica.name, "currency": replica.currency,
            "unit_price": replica.price, "quantity": quantity,
            "line_total": (replica.price * quantity).quantize(CENT),
        })
    if any(errors):
        raise ApplicationError("Some lines of the order cannot be placed.", code="validation",
                               errors={"items": errors})
    return lines


def _replicas(product_ids: list[str]) -> dict[str, ProductReplica]:
    """The replica's products of ``product_ids`` by id (``in_bulk``, spelled out); unknown ids are absent."""
    with connection.cursor() as cursor:
        cursor.execute(_replicas_sql(connection.vendor, len(product_ids)), product_ids)
        return {replica.pk: replica for replica in model_instances(ProductReplica, cursor.fetchall())}


@lru_cache(maxsize=constants.MAX_LINES * 2)
def _replicas_sql(vendor: str, count: int) -> str:
    quote = connection.ops.quote_name
    table = quote(ProductReplica._meta.db_table)
    return (f"SELECT {select_columns(ProductReplica)} FROM {table} "
            f"WHERE {table}.{quote(ProductReplica._meta.pk.column)} IN ({', '.join(['%s'] * count)})")


def _address(address: dict) -> dict:
    fields = ("name", "line1", "line2", "city", "postal_code", "country")
    return {name: str(address.get(name) or "") for name in fields}


# --- the saga's transitions ---------------------------------------------------------------------------------------
# A transition reads what the events need of the order and its lines in one locked SELECT (_LockedOrder), changes
# its status with one UPDATE and one history INSERT (_transition), and emits: no model instance is built. The
# statements are spelled out (shopkit.statements): the ORM compiled them afresh for every event.

def order_cancel(*, order_id, by_staff: bool, reason: str = "") -> None:
    """``pending``/``confirmed`` → ``cancelled``; emits ``order.cancelled`` (product releases any reservation).

    Raises NotFound, Conflict (409) from any other status.
    """
    reason = reason or (constants.REASON_CANCELLED_BY_STAFF if by_staff else constants.REASON_CANCELLED_BY_CUSTOMER)
    with transaction.atomic():
        order = _order_lock(order_id)
        _transition(order, constants.CANCELLED, reason=reason)
        emit(events.ORDER_CANCELLED, {**_status_payload(order), "reason": reason}, subject=str(order.id))


def order_ship(*, order_id) -> None:
    """``confirmed`` → ``shipped``; emits ``order.shipped``. Raises NotFound, Conflict (409)."""
    with transaction.atomic():
        order = _order_lock(order_id)
        _transition(order, constants.SHIPPED, reason=constants.REASON_SHIPPED)
        emit(events.ORDER_SHIPPED, _status_payload(order), subject=str(order.id))


def order_deliver(*, order_id) -> None:
    """``shipped`` → ``delivered``; emits ``order.delivered``. Raises NotFound, Conflict (409)."""
    with transaction.atomic():
        order = _order_lock(order_id)
        _transition(order, constants.DELIVERED, reason=constants.REASON_DELIVERED)
        emit(events.ORDER_DELIVERED, _status_payload(order), subject=str(order.id))


def order_confirm_for_reservation(*, order_id) -> str | None:
    """``pending`` → ``confirmed`` once product reserved the stock; emits ``order.confirmed``. Returns the new
    status, or None when the news changed nothing.

    Any other status means the news is late: a cancelled order stays cancelled (product releases the reservation
    on ``order.cancelled``, also when the cancel overtook the reservation), a confirmed one was confirmed by an
    earlier copy. Those are logged and change nothing. Raises EventRefused for an order this service never had
    (no retry can help: the consumer parks the event at once).
    """
    with effect_transaction():
        order = _order_lock_for_event(order_id, events.STOCK_RESERVED)
        if order.status != constants.PENDING:
            log.info("stock.reserved ignored", order_id=str(order.id), status=order.status)
            return None
        _transition(order, constants.CONFIRMED, reason=constants.REASON_RESERVED)
        emit(events.ORDER_CONFIRMED, _status_payload(order), subject=str(order.id))
        waited = (timezone.now() - order.created_at).total_seconds()
        transaction.on_commit(lambda: metrics.ORDER_CONFIRMATION.observe(waited))  # only once it really happened
    return order.status


def order_reject_for_reservation_failure(*, order_id, shortages: list[dict]) -> str | None:
    """``pending`` → ``rejected`` when product could not reserve; emits ``order.rejected`` with the shortages and
    the order's lines (so the customer's message can name the products). Returns the new status, or None when
    the news changed nothing.

    Any other status (cancelled meanwhile, or an earlier copy already rejected it) is logged and changes nothing.
    Raises EventRefused for an order this service never had.
    """
    with effect_transaction():
        order = _order_lock_for_event(order_id, events.STOCK_RESERVATION_FAILED)
        if order.status != constants.PENDING:
            log.info("stock.reservation_failed ignored", order_id=str(order.id), status=order.status)
            return None
        _transition(order, constants.REJECTED, reason=constants.REASON_OUT_OF_STOCK)
        emit(events.ORDER_REJECTED, {
            "order_id": str(order.id),
            "customer_email": order.customer_email,
            "customer_name": order.customer_name,
            "reason": constants.REASON_OUT_OF_STOCK,
            "shortages": [{"product_id": str(s["product_id"]), "requested": int(s["requested"]),
                           "available": int(s["available"])} for s in shortages],
            "items": _event_items(order.lines),
        }, subject=str(order.id))
    return order.status


def _order_lock(order_id) -> dict:
    order = _order_locked(order_id)
    if order is None:
        raise NotFound("No such order.")
    return order


def _order_lock_for_event(order_id, event_type: str) -> dict:
    # The order.placed that caused this answer was emitted with the order, in one transaction: news of an
    # order this service never had cannot become right by waiting.
    order = _order_locked(order_id)
    if order is None:
        raise EventRefused(f"{event_type} for order {order_id}, which this service never had.")
    return order


@dataclass
class _LockedOrder:
    """An order as a transition reads it, its row locked: what the events say of it, and its ``lines`` as the
    events carry them (dicts of ``_LINE_COLUMNS``, in position order, prices still Decimals)."""

    id: uuid.UUID
    status: str
    customer_email: str
    customer_name: str
    total: Decimal
    currency: str
    created_at: datetime
    lines: list[dict]


_ORDER_COLUMNS = tuple(field.name for field in dataclass_fields(_LockedOrder) if field.name != "lines")
_LINE_COLUMNS = ("product_id", "sku", "name", "quantity", "unit_price", "line_total")
# The fields of the locked SELECT's columns, in its order (their converters are found once for this tuple).
_LOCKED_FIELDS = (tuple(Order._meta.get_field(name) for name in _ORDER_COLUMNS)
                  + tuple(OrderLine._meta.get_field(name) for name in _LINE_COLUMNS))


def _order_locked(order_id) -> _LockedOrder | None:
    """The order, its row locked, in one SELECT; None if there is no such order."""
    try:
        order_pk = Order._meta.pk.get_db_prep_value(order_id, connection)
    except (ValidationError, ValueError, TypeError):  # a malformed id names no order
        return None
    with connection.cursor() as cursor:
        cursor.execute(_order_locked_sql(connection.vendor), [order_pk])
        rows = converted_rows(_LOCKED_FIELDS, cursor.fetchall())
    if not rows:
        return None
    width = len(_ORDER_COLUMNS)
    return _LockedOrder(**dict(zip(_ORDER_COLUMNS, rows[0])),
                        lines=[dict(zip(_LINE_COLUMNS, row[width:])) for row in rows if row[width] is not None])


@lru_cache(maxsize=None)
def _order_locked_sql(vendor: str) -> str:
    """The order joined with its lines, one row per line in position order (one row of NULL line columns when it
    has none), the order's row locked."""
    # The row lock serialises a customer's cancel against the saga's handlers and staff's ship on PostgreSQL;
    # on SQLite the IMMEDIATE transaction already holds the database's write lock. Only the order's row (OF): the
    # lines never change after placement (and PostgreSQL cannot lock the nullable side of the outer join).
    quote = connection.ops.quote_name
    order, line = quote(Order._meta.db_table), quote(OrderLine._meta.db_table)
    order_pk = f"{order}.{quote(Order._meta.pk.column)}"
    return (f"SELECT {select_columns(Order, _ORDER_COLUMNS)}, {select_columns(OrderLine, _LINE_COLUMNS)} "
            f"FROM {order} LEFT OUTER JOIN {line} ON {line}.{quote(OrderLine._meta.get_field('order').column)} = "
            f"{order_pk} WHERE {order_pk} = %s ORDER BY {line}.{quote(OrderLine._meta.get_field('position').column)} "
            f"ASC{for_update(of=(Order,))}")


_TRANSITION_NAMES = ("status", "updated_at")  # what a transition changes of the order's row


def _transition(order: _LockedOrder, status: str, *, reason: str) -> None:
    """Move ``order`` to ``status`` if TRANSITIONS allows it, with its history row; raises Conflict (409)
    otherwise."""
    if status not in constants.TRANSITIONS[order.status]:
        raise Conflict(f"The order is {order.status}; it cannot become {status}.", code="illegal-transition",
                       extra={"order_status": order.status})
    now = timezone.now()  # what save() would give updated_at (auto_now), and the history row
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(update_sql(Order, _TRANSITION_NAMES, vendor),
                       [*insert_params(Order, _TRANSITION_NAMES, [[status, now]]),
                        Order._meta.pk.get_db_prep_value(order.id, connection)])
        cursor.execute(insert_sql(StatusHistory, _HISTORY_NAMES, vendor), insert_params(
            StatusHistory, _HISTORY_NAMES,
            [[order.id, status, now, reason[:constants.REASON_MAX_LENGTH], _correlation_id()]]))
    order.status = status
    log.info("order status changed", order_id=str(order.id), status=status, reason=reason)


def _correlation_id() -> str:
    # The request's id, or in a handler the correlation id of the event chain it continues.
    return (current_correlation_id() or "")[:100]


def _event_items(lines: list[dict]) -> list[dict]:
    """An order's lines (dicts with the ``_LINE_COLUMNS``, prices as Decimals) as the events carry them."""
    return [{
        "product_id": line["product_id"], "sku": line["sku"], "name": line["name"], "quantity": line["quantity"],
        "unit_price": _money(line["unit_price"]), "line_total": _money(line["line_total"]),
    } for line in lines]


def _status_payload(order: _LockedOrder) -> dict:
    """What the email service needs to write about an order: who, what (lines with names), how much."""
    return {"order_id": str(order.id), "customer_email": order.customer_email,
            "customer_name": order.customer_name, "items": _event_items(order.lines),
            "total": _money(order.total), "currency": order.currency}


def _money(value) -> str:
    return f"{Decimal(value).quantize(CENT)}"


# --- the product replica ------------------------------------------------------------------------------------------

def product_replica_apply(*, product_id: str, version: int, sku: str, name: str, price, currency: str,
                          active: bool) -> bool:
    """Record a ``product.created``/``product.updated``, unless the replica already holds this version or a newer
    one (events may arrive out of order). Returns whether it changed anything."""
    fields = {"sku": sku, "name": name, "price": Decimal(str(price)), "currency": currency, "active": bool(active),
              "deleted": False}
    return _replica_write(product_id=str(product_id), version=int(version), fields=fields)


def product_replica_delete(*, product_id: str, version: int) -> bool:
    """Record a ``product.deleted`` as a tombstone (never orderable again, and older updates cannot revive it),
    unless the replica already holds a newer version. Returns whether it changed anything."""
    return _replica_write(product_id=str(product_id), version=int(version), fields={"active": False, "deleted": True})


def _replica_write(*, product_id: str, version: int, fields: dict) -> bool:
    with effect_transaction():
        # One conditional UPDATE: two consumers applying versions of one product can never go backwards.
        updated = ProductReplica.objects.filter(product_id=product_id, version__lt=version).update(
            version=version, updated_at=timezone.now(), **fields)
        if updated:
            return True
        if ProductReplica.objects.filter(product_id=product_id).exists():
            log.info("stale product event ignored", product_id=product_id, version=version)
            return False
        try:
            with transaction.atomic():
                ProductReplica.objects.create(product_id=product_id, version=version, **fields)
        except IntegrityError:
            # Created concurrently by another consumer: settle by version like any other update.
            return bool(ProductReplica.objects.filter(product_id=product_id, version__lt=version).update(
                version=version, updated_at=timezone.now(), **fields))
        return True


# --- emails about an order, for its timeline ----------------------------------------------------------------------

_EMAIL_NAMES = ("email_id", "outcome", "order_id", "kind", "to", "at", "correlation_id")


def order_email_record(*, order_id: str, email_id: str, kind: str, to: str, outcome: str, at, correlation_id: str = ""
                       ) -> None:
    """Remember that the email service sent (or gave up on) message ``email_id`` about ``order_id``.

    Emits nothing. A second report of the same outcome changes nothing: one INSERT that the unique (email,
    outcome) pair turns into no row (ON CONFLICT DO NOTHING), so a repeat needs no savepoint to undo a refused
    INSERT inside the consumer's transaction, and a new report (nearly every one) costs one statement.
    """
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(OrderEmail, _EMAIL_NAMES, connection.vendor, ignore_conflict=True), insert_params(
            OrderEmail, _EMAIL_NAMES,
            [[str(email_id), outcome, str(order_id), kind[:30], to[:254], at, (correlation_id or "")[:100]]]))

