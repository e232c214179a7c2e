"""Order statuses, the transitions allowed between them, and the limits of an order, in one place."""

# Order statuses (DESIGN.md §5).
PENDING = "pending"  # placed; waiting for the product service to reserve stock
CONFIRMED = "confirmed"  # every line reserved
REJECTED = "rejected"  # stock could not be reserved; nothing was (final)
CANCELLED = "cancelled"  # cancelled by the customer or staff before shipping (final)
SHIPPED = "shipped"  # staff shipped it; the reservation became a deduction from stock on hand
DELIVERED = "delivered"  # staff marked it delivered (final)

STATUSES = (PENDING, CONFIRMED, REJECTED, CANCELLED, SHIPPED, DELIVERED)
STATUS_CHOICES = [(s, s) for s in STATUSES]

# The saga's state machine (DESIGN.md §4): every status change goes through this table.
TRANSITIONS = {
    PENDING: {CONFIRMED, REJECTED, CANCELLED},
    CONFIRMED: {CANCELLED, SHIPPED},
    SHIPPED: {DELIVERED},
    REJECTED: set(),
    CANCELLED: set(),
    DELIVERED: set(),
}
SETTLED = (REJECTED, CANCELLED, DELIVERED)  # no transition leaves these

# Limits of one order (DESIGN.md §4).
MAX_LINES = 50
MIN_QUANTITY = 1
MAX_QUANTITY = 100  # per product, after repeated lines of the same product are merged

# What became of a message the email service wrote about an order (from email.sent / email.failed).
EMAIL_SENT = "sent"
EMAIL_FAILED = "failed"
EMAIL_OUTCOME_CHOICES = [(EMAIL_SENT, EMAIL_SENT), (EMAIL_FAILED, EMAIL_FAILED)]

# The kinds of entry on an order's timeline (DESIGN.md §5).
TIMELINE_STATUS = "status"
TIMELINE_EMAIL = "email"

IDEMPOTENCY_KEY_MAX_LENGTH = 200
REASON_MAX_LENGTH = 500

# Reasons written into the status history and the events.
REASON_PLACED = "placed"
REASON_RESERVED = "stock reserved"
REASON_OUT_OF_STOCK = "insufficient stock"
REASON_CANCELLED_BY_CUSTOMER = "cancelled by the customer"
REASON_CANCELLED_BY_STAFF = "cancelled by staff"
REASON_SHIPPED = "shipped"
REASON_DELIVERED = "delivered"
