"""Events this service consumes: the order saga's steps, each translated into one reservation service call."""
from catalog import services
from shopkit import events
from shopkit.messaging.handling import Handler
from shopkit.envelope import Event


def reservation_create_for_order(event: Event) -> None:
    """order.placed → reserve every line or none (emits stock.reserved or stock.reservation_failed)."""
    services.reservation_create(
        order_id=event.data["order_id"],
        items=[(item["product_id"], item["quantity"]) for item in event.data["items"]])


def reservation_release_for_order(event: Event) -> None:
    """order.cancelled → give the stock back, or remember the cancel if order.placed has not come yet."""
    services.reservation_release(order_id=event.data["order_id"])


def reservation_commit_for_order(event: Event) -> None:
    """order.shipped → the reserved quantities leave stock on hand."""
    services.reservation_commit(order_id=event.data["order_id"])


# The names are the inbox keys of what each handler has applied: they stay when a function is renamed or
# moved, and change only together with a data migration of the inbox (shopkit.messaging.handling).
HANDLERS = {
    events.ORDER_PLACED: Handler("reservation_create_for_order", reservation_create_for_order),
    events.ORDER_CANCELLED: Handler("reservation_release_for_order", reservation_release_for_order),
    events.ORDER_SHIPPED: Handler("reservation_commit_for_order", reservation_commit_for_order),
}
