"""Routes of the order service, mounted under their full public paths (the gateway passes paths through)."""
from django.urls import include, path

from orders import apis
from shopkit.openapi import path_with_slash_alias, schema_urlpatterns
from shopkit.ops import ops_urlpatterns

urlpatterns = [
    path("", include("shopkit.health")),
    path("api/v1/orders/", apis.OrderListCreateApi.as_view(), name="order-list"),
    path("api/v1/orders/<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("api/v1/orders/<uuid:order_id>/timeline/", apis.OrderTimelineApi.as_view(), name="order-timeline"),
    *path_with_slash_alias("api/v1/orders/<uuid:order_id>/cancel", apis.OrderCancelApi, "order-cancel"),
    *path_with_slash_alias("api/v1/orders/<uuid:order_id>/ship", apis.OrderShipApi, "order-ship"),
    *path_with_slash_alias("api/v1/orders/<uuid:order_id>/deliver", apis.OrderDeliverApi, "order-deliver"),
    *schema_urlpatterns("order"),
    *ops_urlpatterns(),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
