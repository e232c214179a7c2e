"""Kinds and statuses of email messages, and the ledger's limits, in one place."""

# What a message is about; each customer-facing event makes exactly one message of one kind.
KIND_WELCOME = "welcome"  # user.registered: a new account
KIND_PASSWORD_RESET = "password_reset"  # user.password_reset_requested: a one-time link to set a new password
KIND_ORDER_CONFIRMED = "order_confirmed"  # order.confirmed: stock reserved, the order will ship
KIND_ORDER_REJECTED = "order_rejected"  # order.rejected: stock was short, nothing reserved
KIND_ORDER_CANCELLED = "order_cancelled"  # order.cancelled: by the customer or by staff
KIND_ORDER_SHIPPED = "order_shipped"  # order.shipped: on its way
KIND_ORDER_DELIVERED = "order_delivered"  # order.delivered: arrived
KINDS = (KIND_WELCOME, KIND_PASSWORD_RESET, KIND_ORDER_CONFIRMED, KIND_ORDER_REJECTED, KIND_ORDER_CANCELLED, KIND_ORDER_SHIPPED,
         KIND_ORDER_DELIVERED)
KIND_CHOICES = [(kind, kind.replace("_", " ")) for kind in KINDS]
# Kinds whose body holds a credential (a reset link signs whoever follows it in): the staff API withholds it.
KINDS_WITH_SECRET_BODY = frozenset({KIND_PASSWORD_RESET})
WITHHELD_BODY = "(withheld: this message carries a one-time password-reset link)"

STATUS_QUEUED = "queued"  # waiting for the sender (first try, or a retry after next_attempt_at)
STATUS_SENT = "sent"  # the SMTP server accepted it
STATUS_FAILED = "failed"  # given up: refused for good, or out of attempts; last_error says why
STATUSES = (STATUS_QUEUED, STATUS_SENT, STATUS_FAILED)
STATUS_CHOICES = [(status, status) for status in STATUSES]

SUBJECT_MAX_LENGTH = 255
ERROR_MAX_LENGTH = 2000
