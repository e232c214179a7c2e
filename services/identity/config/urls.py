"""URL configuration of the identity service: health checks, the auth routes, the OpenAPI document."""
from django.urls import include, path

from shopkit.openapi import schema_urlpatterns
from shopkit.ops import ops_urlpatterns

urlpatterns = [
    path("", include("shopkit.health")),
    path("", include("accounts.urls")),
    *schema_urlpatterns("identity"),
    *ops_urlpatterns(),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
