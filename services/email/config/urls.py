"""URLs of the email service: the staff email log, its OpenAPI document and the health checks."""
from django.urls import include, path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("", include("shopkit.health")),
    path("api/v1/emails/", include("mail.urls")),
    # JSON for `Accept: application/json` and for the OpenAPI media type alike (Swagger UI, browsers, curl).
    path("api/v1/schema/email/",
         SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2, OpenApiJsonRenderer]), name="schema"),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
