"""Every event type of the shop, and the versioned schema of each one's payload, in one registry."""
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

# Event types are `<aggregate>.<past participle>`; the routing key is the type. Never derive one from a class name.
USER_REGISTERED = "user.registered"  # identity: a new account exists
USER_PASSWORD_RESET_REQUESTED = "user.password_reset_requested"  # identity: someone asked to reset a password
PRODUCT_CREATED = "product.created"  # product: a product entered the catalog
PRODUCT_UPDATED = "product.updated"  # product: name, price, active… changed (version +1)
PRODUCT_DELETED = "product.deleted"  # product: a product was withdrawn from the catalog
STOCK_RESERVED = "stock.reserved"  # product: every line of an order is reserved
STOCK_RESERVATION_FAILED = "stock.reservation_failed"  # product: an order could not be reserved; nothing was
STOCK_RELEASED = "stock.released"  # product: an order's reservation was given back
ORDER_PLACED = "order.placed"  # order: a customer placed an order (pending)
ORDER_CONFIRMED = "order.confirmed"  # order: stock reserved, order confirmed
ORDER_REJECTED = "order.rejected"  # order: stock could not be reserved
ORDER_CANCELLED = "order.cancelled"  # order: customer or staff cancelled
ORDER_SHIPPED = "order.shipped"  # order: staff shipped
ORDER_DELIVERED = "order.delivered"  # order: staff marked delivered
EMAIL_SENT = "email.sent"  # email: a message was accepted by the SMTP server
EMAIL_FAILED = "email.failed"  # email: a message was given up on

# Who may publish what (DESIGN.md §1): an aggregate's events come from the one service that owns it, and their
# CloudEvents `source` says so (`/shop/<service>`). A consumer parks an event whose source is not the owner of its
# type at once: only a misconfigured or forged publisher sends one, and retrying cannot make it true.
OWNERS = {
    "user": "identity",  # user.*
    "product": "product",  # product.*
    "stock": "product",  # stock.*
    "order": "order",  # order.*
    "email": "email",  # email.*
}


def owner_source(event_type: str) -> str:
    """The `source` every event of ``event_type`` must carry: ``/shop/<owning service>`` (KeyError if none)."""
    return f"/shop/{OWNERS[event_type.split('.', 1)[0]]}"


Money = Annotated[str, StringConstraints(pattern=r"^-?\d+\.\d{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Payload(BaseModel):
    # Unknown fields are tolerated so that a producer can add a field before every consumer knows it;
    # a removed or retyped field needs a new schema version.
    model_config = ConfigDict(extra="allow", frozen=True)


class UserRegistered(Payload):
    user_id: Id
    email: str
    name: str


class UserPasswordResetRequested(Payload):
    user_id: Id
    email: str
    name: str
    reset_url: Annotated[str, StringConstraints(pattern=r"^https?://")]  # carries the one-time token
    expires_at: AwareDatetime  # RFC 3339 with its offset; the link stops working then (an hour after the request)


class ProductChanged(Payload):
    product_id: Id
    sku: str
    name: str
    price: Money
    currency: Currency
    active: bool
    version: int = Field(ge=1)


class ProductDeleted(Payload):
    product_id: Id
    version: int = Field(ge=1)


class OrderItem(Payload):
    product_id: Id
    sku: str
    name: str
    quantity: int = Field(ge=1)
    unit_price: Money
    line_total: Money


class OrderPlaced(Payload):
    order_id: Id
    customer_id: Id
    customer_email: str
    customer_name: str
    items: list[OrderItem] = Field(min_length=1)
    total: Money
    currency: Currency


class ReservedItem(Payload):
    product_id: Id
    quantity: int = Field(ge=1)


class StockReserved(Payload):
    order_id: Id
    items: list[ReservedItem]


class Shortage(Payload):
    product_id: Id
    requested: int
    available: int


class StockReservationFailed(Payload):
    order_id: Id
    shortages: list[Shortage] = Field(min_length=1)


class StockReleased(Payload):
    order_id: Id


class OrderStatusChanged(Payload):
    order_id: Id
    customer_email: str
    customer_name: str
    items: list[OrderItem]
    total: Money
    currency: Currency


class OrderCancelled(OrderStatusChanged):
    reason: str = ""


class OrderRejected(Payload):
    order_id: Id
    customer_email: str
    customer_name: str
    reason: str
    shortages: list[Shortage]
    items: list[OrderItem] = Field(min_length=1)  # the order's lines, so a message can name the products


class EmailOutcome(Payload):
    email_id: Id
    to: str
    kind: str
    cause_event_id: Id
    # v2: the order the message is about (none for a welcome message), so the order service can put it on
    # that order's timeline; a v1 event (without it) still parses.
    order_id: Id | None = None


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    type: str
    version: int
    model: type[Payload]

    @property
    def uri(self) -> str:
        """The CloudEvents `dataschema` that names this schema and its version."""
        return f"urn:shop:event:{self.type}:v{self.version}"


SCHEMAS: dict[str, Schema] = {
    s.type: s
    for s in (
        Schema(type=USER_REGISTERED, version=1, model=UserRegistered),
        Schema(type=USER_PASSWORD_RESET_REQUESTED, version=1, model=UserPasswordResetRequested),
        Schema(type=PRODUCT_CREATED, version=1, model=ProductChanged),
        Schema(type=PRODUCT_UPDATED, version=1, model=ProductChanged),
        Schema(type=PRODUCT_DELETED, version=1, model=ProductDeleted),
        Schema(type=STOCK_RESERVED, version=1, model=StockReserved),
        Schema(type=STOCK_RESERVATION_FAILED, version=1, model=StockReservationFailed),
        Schema(type=STOCK_RELEASED, version=1, model=StockReleased),
        Schema(type=ORDER_PLACED, version=1, model=OrderPlaced),
        Schema(type=ORDER_CONFIRMED, version=1, model=OrderStatusChanged),
        Schema(type=ORDER_REJECTED, version=2, model=OrderRejected),
        Schema(type=ORDER_CANCELLED, version=1, model=OrderCancelled),
        Schema(type=ORDER_SHIPPED, version=1, model=OrderStatusChanged),
        Schema(type=ORDER_DELIVERED, version=1, model=OrderStatusChanged),
        Schema(type=EMAIL_SENT, version=2, model=EmailOutcome),
        Schema(type=EMAIL_FAILED, version=2, model=EmailOutcome),
    )
}


class InvalidEvent(ValueError):
    """An envelope or payload that does not match the contract; consumers park it, never crash on it."""


def validate_payload(event_type: str, data) -> dict:
    """Check ``data`` against the registered schema of ``event_type``; return it as plain JSON-able dict.

    Raises InvalidEvent for an unknown type or a payload that does not fit.
    """
    schema = SCHEMAS.get(event_type)
    if schema is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    if not isinstance(data, dict):
        raise InvalidEvent(f"{event_type}: data must be a JSON object, got {type(data).__name__}")
    try:
        schema.model.model_validate(_plain(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidEvent(f"{event_type}: {problems}") from None
    return _plain(data)


def _plain(value):
    """Decimals become strings with their own places, UUIDs strings: the wire form of DESIGN.md §3."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
