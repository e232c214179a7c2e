"""The order service's subscriptions: one table from event type to handler, read by `manage.py consume_events`."""
from datetime import datetime

from shopkit import events
from shopkit.messaging.handling import Handler

from orders import constants, services


def product_replica_update(event):
    """product.created / product.updated: the replica takes the new name, price, currency and active flag,
    unless it already holds a newer version."""
    data = event.data
    services.product_replica_apply(product_id=data["product_id"], version=data["version"], sku=data["sku"],
                                   name=data["name"], price=data["price"], currency=data["currency"],
                                   active=data["active"])


def product_replica_delete(event):
    """product.deleted: the product can no longer be ordered."""
    services.product_replica_delete(product_id=event.data["product_id"], version=event.data["version"])


def order_confirm_for_reservation(event):
    """stock.reserved: a pending order becomes confirmed (a cancelled one stays cancelled)."""
    services.order_confirm_for_reservation(order_id=event.data["order_id"])


def order_reject_for_reservation_failure(event):
    """stock.reservation_failed: a pending order becomes rejected, with the shortages."""
    services.order_reject_for_reservation_failure(order_id=event.data["order_id"],
                                                  shortages=event.data["shortages"])


def order_email_record(event):
    """email.sent / email.failed: the message goes on its order's timeline. A message about no order (a welcome
    message) or a v1 event that does not name its order has no place there and is skipped."""
    order_id = event.data.get("order_id")
    if not order_id:
        return
    services.order_email_record(
        order_id=order_id, email_id=event.data["email_id"], kind=event.data["kind"], to=event.data["to"],
        outcome=constants.EMAIL_SENT if event.type == events.EMAIL_SENT else constants.EMAIL_FAILED,
        at=datetime.fromisoformat(event.time.replace("Z", "+00:00")), correlation_id=event.correlationid)


# The names are the inbox keys of what each handler has applied: they stay when a function is renamed or
# moved, and change only together with a data migration of the inbox (shopkit.messaging.handling).
HANDLERS = {
    events.PRODUCT_CREATED: Handler("product_replica_update", product_replica_update),
    events.PRODUCT_UPDATED: Handler("product_replica_update", product_replica_update),
    events.PRODUCT_DELETED: Handler("product_replica_delete", product_replica_delete),
    events.STOCK_RESERVED: Handler("order_confirm_for_reservation", order_confirm_for_reservation),
    events.STOCK_RESERVATION_FAILED: Handler("order_reject_for_reservation_failure",
                                             order_reject_for_reservation_failure),
    events.EMAIL_SENT: Handler("order_email_record", order_email_record),
    events.EMAIL_FAILED: Handler("order_email_record", order_email_record),
}
