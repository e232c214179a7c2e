"""Incoming events of the email service: each customer-facing event queues one message (HANDLERS)."""
from mail import constants
from mail.rendering import order_context, password_reset_context, welcome_context
from mail.services import email_queue
from shopkit import events
from shopkit.envelope import Event
from shopkit.messaging.handling import Handler


def email_queue_welcome(event: Event) -> None:
    """user.registered → a welcome message to the new account's address."""
    email_queue(kind=constants.KIND_WELCOME, to=event.data["email"], context=welcome_context(event.data),
                cause_event_id=event.id, correlation_id=event.correlationid)


def email_queue_password_reset(event: Event) -> None:
    """user.password_reset_requested → the one-time reset link, to the account's address."""
    email_queue(kind=constants.KIND_PASSWORD_RESET, to=event.data["email"],
                context=password_reset_context(event.data), cause_event_id=event.id,
                correlation_id=event.correlationid)


def email_queue_order_confirmed(event: Event) -> None:
    """order.confirmed → "your order is confirmed", with its lines and total."""
    _queue_order_message(event, constants.KIND_ORDER_CONFIRMED)


def email_queue_order_rejected(event: Event) -> None:
    """order.rejected → "we could not accept your order", with the shortages in words."""
    _queue_order_message(event, constants.KIND_ORDER_REJECTED)


def email_queue_order_cancelled(event: Event) -> None:
    """order.cancelled → "your order is cancelled", with the reason when one was given."""
    _queue_order_message(event, constants.KIND_ORDER_CANCELLED)


def email_queue_order_shipped(event: Event) -> None:
    """order.shipped → "your order is on its way"."""
    _queue_order_message(event, constants.KIND_ORDER_SHIPPED)


def email_queue_order_delivered(event: Event) -> None:
    """order.delivered → "your order has been delivered"."""
    _queue_order_message(event, constants.KIND_ORDER_DELIVERED)


def _queue_order_message(event: Event, kind: str) -> None:
    email_queue(kind=kind, to=event.data["customer_email"], context=order_context(event.data),
                cause_event_id=event.id, order_id=str(event.data["order_id"]), correlation_id=event.correlationid)


# The names are the inbox keys of what each handler has applied: they stay when a function is renamed or
# moved, and change only together with a data migration of the inbox (shopkit.messaging.handling).
HANDLERS = {
    events.USER_REGISTERED: Handler("email_queue_welcome", email_queue_welcome),
    events.USER_PASSWORD_RESET_REQUESTED: Handler("email_queue_password_reset", email_queue_password_reset),
    events.ORDER_CONFIRMED: Handler("email_queue_order_confirmed", email_queue_order_confirmed),
    events.ORDER_REJECTED: Handler("email_queue_order_rejected", email_queue_order_rejected),
    events.ORDER_CANCELLED: Handler("email_queue_order_cancelled", email_queue_order_cancelled),
    events.ORDER_SHIPPED: Handler("email_queue_order_shipped", email_queue_order_shipped),
    events.ORDER_DELIVERED: Handler("email_queue_order_delivered", email_queue_order_delivered),
}
