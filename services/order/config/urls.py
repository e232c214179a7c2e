"""Routes of the order service, mounted under their full public paths (the gateway passes paths through)."""
from django.urls import include, path
from drf_spectacular.utils import extend_schema, extend_schema_view
from shopkit.openapi import schema_urlpatterns

from orders import apis


def _action(name: str, view) -> list:
    """``/cancel`` as DESIGN.md §5 writes it, and ``/cancel/`` too (APPEND_SLASH is off, clients differ);
    the OpenAPI document lists the first only."""
    undocumented = extend_schema_view(post=extend_schema(exclude=True))(type(f"{view.__name__}Slash", (view,), {}))
    return [
        path(f"api/v1/orders/<uuid:order_id>/{name}", view.as_view(), name=f"order-{name}"),
        path(f"api/v1/orders/<uuid:order_id>/{name}/", undocumented.as_view()),
    ]


urlpatterns = [
    path("", include("shopkit.health")),
    path("api/v1/orders/", apis.OrderListCreateApi.as_view(), name="order-list"),
    path("api/v1/orders/<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    *_action("cancel", apis.OrderCancelApi),
    *_action("ship", apis.OrderShipApi),
    *_action("deliver", apis.OrderDeliverApi),
    *schema_urlpatterns("order"),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
