"""Order reads: what a caller may see (own orders; staff see all), with lines and history in few queries."""
from django.db.models import Prefetch, QuerySet

from shopkit.problems import NotFound

from orders.models import Order, OrderLine, StatusHistory


def _orders_visible_to(user) -> QuerySet[Order]:
    orders = Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
        Prefetch("history", queryset=StatusHistory.objects.order_by("at", "id")),
    )
    return orders if user.is_staff else orders.filter(customer_id=user.id)


def order_list(*, user, status: str | None = None) -> QuerySet[Order]:
    """The caller's orders (every order for staff), newest first, optionally of one status."""
    orders = _orders_visible_to(user)
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-created_at", "-id")


def order_get(*, user, order_id) -> Order:
    """One order the caller may see. Another customer's order is NotFound, exactly like a missing one, so
    order ids cannot be probed."""
    order = _orders_visible_to(user).filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.")
    return order
