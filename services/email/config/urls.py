"""URLs of the email service: the staff email log, its OpenAPI document and the health checks."""
from django.urls import include, path

from shopkit.openapi import schema_urlpatterns
from shopkit.ops import ops_urlpatterns

urlpatterns = [
    path("", include("shopkit.health")),
    path("api/v1/emails/", include("mail.urls")),
    *schema_urlpatterns("email"),
    *ops_urlpatterns(),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
