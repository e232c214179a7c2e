"""Named values of the catalog: reservation states, list orderings, limits and cache policy."""

# Reservation states: one reservation per order id, whatever order the saga's events arrive in.
RESERVATION_RESERVED = "reserved"  # every line holds stock (counted in Stock.reserved)
RESERVATION_REJECTED = "rejected"  # order.placed could not be met; nothing was held (stock.reservation_failed)
RESERVATION_RELEASED = "released"  # cancelled: stock given back, or the cancel came first and nothing was held
RESERVATION_COMMITTED = "committed"  # shipped: the quantities left on hand and reserved together
RESERVATION_STATES = [
    (RESERVATION_RESERVED, "reserved"),
    (RESERVATION_REJECTED, "rejected"),
    (RESERVATION_RELEASED, "released"),
    (RESERVATION_COMMITTED, "committed"),
]
NO_RESERVATION = None  # the order has no reservation yet: none of its saga events has arrived

# The saga's steps that act on a reservation, each the effect of one order.* event.
STEP_PLACE = "place"  # order.placed
STEP_CANCEL = "cancel"  # order.cancelled
STEP_SHIP = "ship"  # order.shipped

# The reservation lifecycle (DESIGN.md §4), the one table every reservation change goes through. For each
# state and step: the states the step may lead to (order.placed reserves or rejects, depending on the stock);
# an empty set when the step changes nothing (a repeat, or news that comes too late: a cancel after shipping,
# an order.placed after its cancel); and no entry when the step cannot happen in a consistent shop (shipping
# an order that holds nothing): the event is refused and parked with the reason, for a person to look at.
RESERVATION_TRANSITIONS = {
    NO_RESERVATION: {STEP_PLACE: {RESERVATION_RESERVED, RESERVATION_REJECTED}, STEP_CANCEL: {RESERVATION_RELEASED}},
    RESERVATION_RESERVED: {STEP_PLACE: set(), STEP_CANCEL: {RESERVATION_RELEASED},
                           STEP_SHIP: {RESERVATION_COMMITTED}},
    RESERVATION_REJECTED: {STEP_PLACE: set(), STEP_CANCEL: set()},
    RESERVATION_RELEASED: {STEP_PLACE: set(), STEP_CANCEL: set()},
    RESERVATION_COMMITTED: {STEP_PLACE: set(), STEP_CANCEL: set(), STEP_SHIP: set()},
}

# `?ordering=` of the product list → the ORDER BY it means; the primary key breaks ties so pages are stable.
ORDERINGS = {
    "price": ("price", "id"),
    "-price": ("-price", "id"),
    "name": ("name", "id"),
    "-created_at": ("-created_at", "-id"),
}
DEFAULT_ORDERING = "name"

DEFAULT_CURRENCY = "EUR"  # the demo shop sells in one currency; a product may name another
MAX_PRICE = 10 ** 8 - 1  # Decimal(10, 2): eight digits before the point
MAX_SEARCH_LENGTH = 100
MAX_STOCK_DELTA = 1_000_000  # one adjustment; larger is a typo, not a delivery

# Anonymous catalog reads may be kept by the gateway for a second, served stale while it refreshes them,
# and served stale for ten minutes while this service is down (DESIGN.md §6 micro-caching).
PUBLIC_CACHE_CONTROL = "public, max-age=1, stale-while-revalidate=30, stale-if-error=600"
# A signed-in customer sees what anonymous does, but the request carried a token: only the browser may keep it,
# and must revalidate (cheap: ETag → 304).
CUSTOMER_CACHE_CONTROL = "private, no-cache"
# Staff see inactive products and stock levels: never stored anywhere.
STAFF_CACHE_CONTROL = "private, no-store"

# Rendered list pages each web process keeps (catalog.pagecache); a page of 100 products is about 40 kB.
RENDERED_PAGES_CACHED = 256
