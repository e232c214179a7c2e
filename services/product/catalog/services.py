"""Writes of the catalog: products, stock adjustments and the order saga's reservations, each in one
transaction together with the events it emits."""
import uuid
from collections import Counter
from decimal import Decimal
from functools import lru_cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog import constants
from catalog.locks import reservation_lock, stock_lock
from catalog.models import Category, Product, Reservation, ReservationLine, Stock, StockAdjustment
from shopkit import events
from shopkit.logging import get_logger
from shopkit.messaging.handling import EventRefused, effect_transaction
from shopkit.messaging.outbox import emit
from shopkit.problems import ApplicationError, Conflict, NotFound
from shopkit.statements import insert_params, insert_sql

log = get_logger(__name__)

# Fields of a product that staff may change, and that a change of bumps `version`.
EDITABLE_FIELDS = ("sku", "name", "description", "price", "currency", "category", "image_url", "active")


# ---------------------------------------------------------------------------------------------- products

def product_create(*, sku: str, name: str, price: Decimal | str, currency: str = constants.DEFAULT_CURRENCY,
                   description: str = "", category: str | None = None, image_url: str = "", active: bool = True,
                   initial_stock: int = 0, actor_id: str = "", actor_email: str = "") -> Product:
    """Add a product (version 1) with its stock row; a non-zero ``initial_stock`` is recorded as an adjustment.

    ``category`` is a slug. Emits product.created. Raises ApplicationError (400) for an unknown category,
    Conflict (409, code ``sku-taken``) for a sku already used, by a deleted product too.
    """
    price = Decimal(price)  # a caller may hand over the string form; the events format it with two places
    with transaction.atomic():
        category_obj = _category_by_slug(category)
        _ensure_sku_free(sku)
        now = timezone.now()
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    sku=sku, name=name, description=description, price=price, currency=currency,
                    category=category_obj, image_url=image_url, active=active, created_at=now, updated_at=now)
        except IntegrityError:
            raise _sku_taken(sku) from None  # a concurrent create took it between our check and insert
        Stock.objects.create(product=product, on_hand=initial_stock, reserved=0, updated_at=now)
        if initial_stock:
            StockAdjustment.objects.create(product=product, delta=initial_stock, reason="initial stock",
                                           on_hand_after=initial_stock, actor_id=actor_id,
                                           actor_email=actor_email, at=now)
        emit(events.PRODUCT_CREATED, _product_changed_payload(product), subject=str(product.id))
    return product


def product_update(*, product_id: uuid.UUID, changes: dict, expected_version: int | None = None) -> Product:
    """Apply ``changes`` (a subset of EDITABLE_FIELDS; ``category`` as a slug or None) to a product.

    A change that changes nothing is no change: no new version, no event. Otherwise version +1 and emits
    product.updated. Raises NotFound for an unknown or deleted product, Conflict (``version-mismatch``) when
    ``expected_version`` is given and is not the current one, plus product_create's errors.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        product = _product_for_update(product_id)
        if expected_version is not None and expected_version != product.version:
            raise Conflict(f"The product is at version {product.version}, not {expected_version}; reload it.",
                           code="version-mismatch", extra={"version": product.version})
        if "category" in changes:
            changes = {**changes, "category": _category_by_slug(changes["category"])}
        if changes.get("sku", product.sku) != product.sku:
            _ensure_sku_free(changes["sku"])
        changed = [field for field, value in changes.items() if getattr(product, field) != value]
        if not changed:
            return product
        for field in changed:
            setattr(product, field, changes[field])
        product.version += 1
        product.updated_at = timezone.now()
        try:
            with transaction.atomic():
                product.save(update_fields=[*changed, "version", "updated_at"])
        except IntegrityError:
            raise _sku_taken(product.sku) from None
        emit(events.PRODUCT_UPDATED, _product_changed_payload(product), subject=str(product.id))
    return product


def product_delete(*, product_id: uuid.UUID) -> Product:
    """Withdraw a product: hidden from every list and detail, not orderable, version +1. The row stays for the
    reservations that name it. Emits product.deleted. Raises NotFound for an unknown or already deleted one."""
    with transaction.atomic():
        product = _product_for_update(product_id)
        now = timezone.now()
        product.active = False
        product.deleted_at = now
        product.updated_at = now
        product.version += 1
        product.save(update_fields=["active", "deleted_at", "updated_at", "version"])
        emit(events.PRODUCT_DELETED, {"product_id": str(product.id), "version": product.version},
             subject=str(product.id))
    return product


def _product_for_update(product_id) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id, deleted_at__isnull=True).first()
    if product is None:
        raise NotFound("No such product.")
    return product


def _category_by_slug(slug: str | None) -> Category | None:
    if slug is None:
        return None
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise ApplicationError(f"Unknown category {slug!r}.", status=400, code="validation",
                               errors={"category": [f"Unknown category {slug!r}."]})
    return category


def _ensure_sku_free(sku: str) -> None:
    if Product.objects.filter(sku=sku).exists():
        raise _sku_taken(sku)


def _sku_taken(sku: str) -> Conflict:
    return Conflict(f"Another product already has sku {sku!r}.", code="sku-taken",
                    errors={"sku": [f"Another product already has sku {sku!r}."]})


def _product_changed_payload(product: Product) -> dict:
    return {"product_id": str(product.id), "sku": product.sku, "name": product.name,
            "price": f"{product.price:.2f}", "currency": product.currency, "active": product.active,
            "version": product.version}


# ------------------------------------------------------------------------------------------------- stock

def stock_adjust(*, product_id: uuid.UUID, delta: int, reason: str, actor_id: str = "",
                 actor_email: str = "") -> Stock:
    """Change stock on hand by ``delta`` (a delivery, a count, breakage) and record who did it and why.

    Emits nothing (no other service tracks stock levels). Raises NotFound for an unknown or deleted product,
    ApplicationError (400) for a zero delta, Conflict (``stock-below-reserved``) when on hand would fall
    below what orders have reserved (which also keeps it from going negative).
    """
    if delta == 0:
        raise ApplicationError("A stock adjustment must change something.", status=400, code="validation",
                               errors={"delta": ["Must not be zero."]})
    with transaction.atomic():
        if not Product.objects.filter(pk=product_id, deleted_at__isnull=True).exists():
            raise NotFound("No such product.")
        stock = stock_lock([product_id])[product_id]
        on_hand = stock.on_hand + delta
        if on_hand < stock.reserved:
            raise Conflict(
                f"On hand would be {on_hand}, below the {stock.reserved} reserved for orders.",
                code="stock-below-reserved",
                extra={"on_hand": stock.on_hand, "reserved": stock.reserved, "available": stock.available})
        now = timezone.now()
        stock.on_hand = on_hand
        _stocks_save([stock], now, "on_hand")
        StockAdjustment.objects.create(product_id=product_id, delta=delta, reason=reason, on_hand_after=on_hand,
                                       actor_id=actor_id, actor_email=actor_email, at=now)
    return stock


# ------------------------------------------------------------------------------------- order reservations

def reservation_create(*, order_id: str, items: list[tuple[str, int]]) -> Reservation:
    """Reserve every line of an order, or none: order.placed's effect (step ``place`` of the lifecycle).

    ``items`` are (product id, quantity) pairs; a product named twice is reserved for the sum. An unknown,
    inactive or deleted product is a shortage with 0 available. Emits stock.reserved, or
    stock.reservation_failed with every shortage. If the order already has a reservation (a repeated
    order.placed, or one that arrives after its order.cancelled), nothing changes and nothing is emitted: the
    first outcome is already on its way.
    """
    requested = Counter()
    for product_id, quantity in items:
        # One spelling per product (a UUID in capitals is the same product), so its lines add up.
        parsed = _as_uuid(str(product_id))
        requested[str(parsed) if parsed else str(product_id)] += int(quantity)
    known_ids = {key: _as_uuid(key) for key in requested}
    with effect_transaction():
        # Stock first, reservation second: a concurrent duplicate waits on the stock locks, then sees ours.
        stocks = stock_lock((pid for pid in known_ids.values() if pid is not None), with_orderable=True)
        step = _reservation_step(order_id, constants.STEP_PLACE)
        if step.changes_nothing:
            return step.reservation
        shortages = []
        for key in sorted(requested):
            stock = stocks.get(known_ids[key])
            available = stock.available if stock is not None and stock.orderable else 0
            if requested[key] > available:
                shortages.append({"product_id": key, "requested": requested[key], "available": max(available, 0)})
        now = timezone.now()
        reservation = step.insert(constants.RESERVATION_REJECTED if shortages else constants.RESERVATION_RESERVED,
                                  now)
        if reservation is None:  # a concurrent order.cancelled came first: apply order.placed after it
            return reservation_create(order_id=order_id, items=items)
        if shortages:
            emit(events.STOCK_RESERVATION_FAILED, {"order_id": order_id, "shortages": shortages}, subject=order_id)
            return reservation
        lines = {}
        for key in sorted(requested):
            stock = stocks[known_ids[key]]
            stock.reserved += requested[key]
            lines[stock.pk] = requested[key]
        _stocks_save(stocks.values(), now, "reserved")
        _reservation_lines_insert(reservation, lines)
        emit(events.STOCK_RESERVED,
             {"order_id": order_id, "items": [{"product_id": key, "quantity": requested[key]}
                                              for key in sorted(requested)]},
             subject=order_id)
    return reservation


def reservation_release(*, order_id: str) -> Reservation:
    """Give back what an order holds: order.cancelled's effect (step ``cancel`` of the lifecycle).

    A held reservation is released (emits stock.released). An order with no reservation yet — the cancel
    overtook order.placed — gets a released one with no lines, so the late order.placed reserves nothing; this
    also emits stock.released, as from now on nothing is or will be held for it. A reservation that is already
    released, was rejected or was committed (shipped) is left alone, emitting nothing.
    """
    with effect_transaction():
        step = _reservation_step(order_id, constants.STEP_CANCEL)
        if step.changes_nothing:
            return step.reservation
        now = timezone.now()
        if step.reservation is None:
            reservation = step.insert(constants.RESERVATION_RELEASED, now)
            if reservation is None:  # a concurrent order.placed came first: release what it holds
                return reservation_release(order_id=order_id)
            log.info("order.cancelled before order.placed; remembered, nothing to release", order_id=order_id)
            emit(events.STOCK_RELEASED, {"order_id": order_id}, subject=order_id)
            return reservation
        lines = list(step.reservation.lines.all())
        stocks = stock_lock(line.product_id for line in lines)
        for line in lines:
            stocks[line.product_id].reserved -= line.quantity
        _stocks_save(stocks.values(), now, "reserved")
        reservation = step.move(constants.RESERVATION_RELEASED, now)
        emit(events.STOCK_RELEASED, {"order_id": order_id}, subject=order_id)
    return reservation


def reservation_commit(*, order_id: str) -> Reservation:
    """Turn an order's reservation into a deduction from stock on hand: order.shipped's effect (step ``ship``).

    On hand and reserved both drop by each line's quantity. Emits nothing. Committing again is a no-op.
    Raises EventRefused when the order holds nothing (no reservation, or one rejected or released): the order
    service ships only confirmed orders, so this is an inconsistency for a person to look at, and the consumer
    parks the event at once with this message.
    """
    with effect_transaction():
        step = _reservation_step(order_id, constants.STEP_SHIP)
        if step.changes_nothing:
            return step.reservation
        now = timezone.now()
        lines = list(step.reservation.lines.all())
        stocks = stock_lock(line.product_id for line in lines)
        for line in lines:
            stock = stocks[line.product_id]
            stock.on_hand -= line.quantity
            stock.reserved -= line.quantity
        _stocks_save(stocks.values(), now, "on_hand", "reserved")
        reservation = step.move(constants.RESERVATION_COMMITTED, now)
    return reservation


class _ReservationStep:
    """One saga step applied to an order's (locked) reservation, as RESERVATION_TRANSITIONS allows it."""

    def __init__(self, order_id: str, step: str, reservation: Reservation | None, targets: set[str]):
        self.order_id = order_id
        self.step = step
        self.reservation = reservation
        self.targets = targets

    @property
    def changes_nothing(self) -> bool:
        return not self.targets

    def insert(self, state: str, now) -> Reservation | None:
        """The order's first reservation, in ``state``; None when a concurrent step inserted one first.

        That is the saga's one race: order.placed and order.cancelled of one order handled at the same moment,
        both finding no reservation. The unique order id lets one insert win (on PostgreSQL and MySQL the other
        waits for it to commit, then inserts nothing: the insert ignores that conflict, so no savepoint is
        needed to survive it), and the loser's caller applies its step again, to the winner's reservation, in
        the same transaction.
        """
        self._check(state)
        reservation = _reservation_insert(self.order_id, state, now)
        if reservation is None:
            log.info("a concurrent saga step created the reservation first", order_id=self.order_id, step=self.step)
        return reservation

    def move(self, state: str, now) -> Reservation:
        """The (existing) reservation, moved to ``state``."""
        self._check(state)
        self.reservation.state = state
        self.reservation.updated_at = now
        self.reservation.save(update_fields=["state", "updated_at"])
        return self.reservation

    def _check(self, state: str) -> None:
        if state not in self.targets:  # a programming error: the step's code disagrees with the table
            raise AssertionError(f"{self.step} cannot lead to {state}; the table allows {sorted(self.targets)}")


def _reservation_step(order_id: str, step: str) -> _ReservationStep:
    """Lock the order's reservation and look ``step`` up in RESERVATION_TRANSITIONS.

    Raises EventRefused when the table has no such step from the reservation's state: the saga cannot get
    there in a consistent shop (shipping an order that holds nothing), so no retry would help.
    """
    reservation = reservation_lock(order_id)
    state = reservation.state if reservation is not None else constants.NO_RESERVATION
    row = constants.RESERVATION_TRANSITIONS[state]
    if step not in row:
        held = f"its reservation is {state}" if reservation is not None else "it holds no reservation"
        raise EventRefused(f"Order {order_id}: step {step!r} cannot apply, {held}.")
    if not row[step]:
        log.info("saga step changes nothing", order_id=order_id, step=step, state=state)
    return _ReservationStep(order_id, step, reservation, row[step])


# ---------------------------------------------------------------------------------- the saga's own statements
# Every saga step runs these (and a stock adjustment the first). Each is spelled out once per kind of database
# (``vendor``, the builders' cache key) and shape (number of rows), from the models' tables and columns, rather
# than built by the ORM, which resolves and compiles the same expression tree afresh on every call: more CPU than
# the database spends running them. The tables' check constraints hold the stock invariants whatever these write.

def _stocks_save(stocks, now, *fields: str) -> None:
    """Write ``fields`` of stock rows locked by ``stock_lock`` in this transaction, in one UPDATE.

    Every stock change bumps ``revision``: the list's ETag (catalog.selectors.catalog_state) depends on it. The
    database's check constraints still refuse an oversold row, whatever was computed here.
    """
    stocks = list(stocks)
    if not stocks:
        return
    for stock in stocks:
        stock.revision += 1
        stock.updated_at = now
    pk = Stock._meta.pk
    ids = [pk.get_db_prep_value(stock.pk, connection) for stock in stocks]
    params = []
    for field in fields:  # each field's CASE: the new value as computed, by product
        for stock, db_id in zip(stocks, ids):
            params += [db_id, getattr(stock, field)]
    params.append(Stock._meta.get_field("updated_at").get_db_prep_value(now, connection))
    with connection.cursor() as cursor:
        cursor.execute(_stocks_update_sql(connection.vendor, len(stocks), fields), params + ids)


@lru_cache(maxsize=64)
def _stocks_update_sql(vendor: str, count: int, fields: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    pk = quote(Stock._meta.pk.column)
    revision, updated_at = (quote(Stock._meta.get_field(name).column) for name in ("revision", "updated_at"))
    assignments = []
    for name in fields:
        field = Stock._meta.get_field(name)
        value = "%s"
        if connection.features.requires_casted_case_in_updates:  # PostgreSQL: a parameter's type is unknown
            value = f"CAST(%s AS {field.cast_db_type(connection)})"
        assignments.append(f"{quote(field.column)} = CASE {pk} {' '.join([f'WHEN %s THEN {value}'] * count)} END")
    placeholders = ", ".join(["%s"] * count)
    return (f"UPDATE {quote(Stock._meta.db_table)} SET {', '.join(assignments)}, {revision} = {revision} + 1, "
            f"{updated_at} = %s WHERE {pk} IN ({placeholders})")


# The columns a new reservation and its lines are inserted with; a reservation's id comes from the database.
_RESERVATION_INSERTED = ("order_id", "state", "created_at", "updated_at")
_LINE_INSERTED = ("reservation", "product", "quantity")


def _reservation_insert(order_id: str, state: str, now) -> Reservation | None:
    """Insert the order's reservation; None (and nothing written) when the order has one already.

    Raises EventRefused for an order id longer than the column: MySQL's INSERT IGNORE would store it cut short,
    and then it could name another order.
    """
    longest = Reservation._meta.get_field("order_id").max_length
    if len(order_id) > longest:
        raise EventRefused(f"order id longer than the reservations' {longest} characters")
    values = {"order_id": order_id, "state": state, "created_at": now, "updated_at": now}
    params = insert_params(Reservation, _RESERVATION_INSERTED, [[values[name] for name in _RESERVATION_INSERTED]])
    with connection.cursor() as cursor:
        # the unique order id makes a second reservation of the order a conflict, skipped (rowcount 0, no id)
        cursor.execute(insert_sql(Reservation, _RESERVATION_INSERTED, connection.vendor, ignore_conflict=True,
                                  returning_pk=True), params)
        if connection.features.can_return_columns_from_insert:
            row = cursor.fetchone()
            values["id"] = row[0] if row else None
        elif cursor.rowcount == 1:
            values["id"] = connection.ops.last_insert_id(cursor, Reservation._meta.db_table,
                                                         Reservation._meta.pk.column)
    if values.get("id") is None:
        return None
    names = [field.attname for field in Reservation._meta.concrete_fields]
    return Reservation.from_db(connection.alias, names, [values[name] for name in names])


def _reservation_lines_insert(reservation: Reservation, quantities: dict[uuid.UUID, int]) -> None:
    """Insert the reservation's lines, ``quantities`` by product id, in one INSERT."""
    params = insert_params(ReservationLine, _LINE_INSERTED,
                           [(reservation.pk, product_id, quantity) for product_id, quantity in quantities.items()])
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(ReservationLine, _LINE_INSERTED, connection.vendor, rows=len(quantities)), params)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
