"""Order reads: what a caller may see (own orders; staff see all), with lines and history in few queries."""
from django.db.models import Prefetch, QuerySet

from shopkit.problems import NotFound

from orders import constants
from orders.models import Order, OrderEmail, OrderLine, StatusHistory


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


def order_as_placed(order: Order) -> dict:
    """An order ``services.order_place`` has just created, as a row that renders as ``order_get``'s order does,
    without a query: its columns, and as ``lines`` and ``history`` the rows its transaction wrote (in the order
    ``order_get`` reads them). Rendering reads a row's keys as it reads an instance's attributes."""
    return {**{field.attname: getattr(order, field.attname) for field in Order._meta.concrete_fields},
            **order.rows_written}


def order_timeline(*, user, order_id) -> list[dict]:
    """What happened to one order the caller may see, oldest first: each status it entered and each message the
    email service sent or gave up on for it, as ``{at, kind, title, detail, correlation_id}``.

    At the same instant a status change comes before the message it caused; an email's time is its event's, to
    the millisecond, so instants are compared to the millisecond. Raises NotFound like ``order_get``.
    """
    order = order_get(user=user, order_id=order_id)
    entries = [
        ((_millisecond(change.at), 0, change.at, change.id), {
            "at": change.at, "kind": constants.TIMELINE_STATUS, "title": f"Order {change.status}",
            "detail": change.reason, "correlation_id": change.correlation_id})
        for change in order.history.all()
    ]
    entries += [
        ((_millisecond(email.at), 1, email.at, email.id), {
            "at": email.at, "kind": constants.TIMELINE_EMAIL,
            "title": f"Email {email.outcome}: {email.kind.replace('_', ' ')}",
            "detail": f"to {email.to}", "correlation_id": email.correlation_id})
        for email in OrderEmail.objects.filter(order_id=str(order.id))
    ]
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


def _millisecond(moment):
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
