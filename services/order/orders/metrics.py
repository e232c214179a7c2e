"""Orders by status and the age of the oldest pending one, read from the database at every scrape of `/metrics`."""
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from orders import constants
from orders.models import Order


def orders_by_status():
    counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    by_status = GaugeMetricFamily("shop_orders", "Orders by status", labels=["status"])
    for status in constants.STATUSES:  # every status, zero included: a panel or an alert never sees a gap
        by_status.add_metric([status], counts.get(status, 0))
    oldest = Order.objects.filter(status=constants.PENDING).aggregate(at=Min("created_at"))["at"]
    age = GaugeMetricFamily("shop_orders_oldest_pending_age_seconds",
                            "How long the oldest pending order has waited for its stock (0 when none is pending)")
    age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
    return [by_status, age]
