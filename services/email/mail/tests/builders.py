"""Plain builders the email tests share: events as their producers emit them (DESIGN.md §3)."""
import uuid

from shopkit import events
from shopkit.envelope import build_event

ITEMS = [
    {"product_id": "p-mug", "sku": "MUG-1", "name": "Blue Mug", "quantity": 2, "unit_price": "7.50",
     "line_total": "15.00"},
    {"product_id": "p-tea", "sku": "TEA-9", "name": "Earl Grey Tea", "quantity": 1, "unit_price": "4.25",
     "line_total": "4.25"},
]


def order_event(event_type: str, **overrides):
    """An `order.*` event as the order service emits it (DESIGN.md §3), with ``overrides`` in its data."""
    order_id = overrides.pop("order_id", str(uuid.uuid4()))
    data = {"order_id": order_id, "customer_email": "ada@example.com", "customer_name": "Ada Lovelace"}
    if event_type == events.ORDER_REJECTED:
        data.update(reason="insufficient stock", items=ITEMS,
                    shortages=[{"product_id": "p-mug", "requested": 2, "available": 1},
                               {"product_id": "p-tea", "requested": 1, "available": 0}])
    else:
        data.update(items=ITEMS, total="19.25", currency="EUR")
    data.update(overrides)
    return build_event(event_type, data, source="/shop/order", subject=order_id,
                       correlation_id=str(uuid.uuid4()))


def user_registered_event(**overrides):
    user_id = str(uuid.uuid4())
    data = {"user_id": user_id, "email": "grace@example.com", "name": "Grace Hopper", **overrides}
    return build_event(events.USER_REGISTERED, data, source="/shop/identity", subject=user_id,
                       correlation_id=str(uuid.uuid4()))


def password_reset_event(**overrides):
    user_id = str(uuid.uuid4())
    data = {"user_id": user_id, "email": "grace@example.com", "name": "Grace Hopper",
            "reset_url": "https://shop.example.com/reset-password#token=tok-123_abc",
            "expires_at": "2026-11-30T06:15:00Z", **overrides}
    return build_event(events.USER_PASSWORD_RESET_REQUESTED, data, source="/shop/identity", subject=user_id,
                       correlation_id=str(uuid.uuid4()))
