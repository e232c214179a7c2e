"""Test builders: saga events as the order service would send them."""
import uuid

from shopkit import events
from shopkit.envelope import build_event


def order_event(event_type: str, order_id: str, lines=()):
    """An order.* event; ``lines`` are (product id, quantity) pairs (order.placed needs at least one)."""
    items = [{"product_id": str(pid), "sku": f"SKU-{i}", "name": f"Item {i}", "quantity": qty,
              "unit_price": "1.00", "line_total": f"{qty}.00"} for i, (pid, qty) in enumerate(lines)]
    data = {"order_id": order_id, "customer_email": "ann@example.com", "customer_name": "Ann",
            "items": items, "total": f"{sum(q for _, q in lines)}.00", "currency": "EUR"}
    if event_type == events.ORDER_PLACED:
        data["customer_id"] = str(uuid.uuid4())
    return build_event(event_type, data, source="/shop/order", subject=order_id)


def placed(order_id, *lines):
    return order_event(events.ORDER_PLACED, order_id, lines)


def cancelled(order_id):
    return order_event(events.ORDER_CANCELLED, order_id)


def shipped(order_id):
    return order_event(events.ORDER_SHIPPED, order_id)
