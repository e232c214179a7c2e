"""OpenAPI documents: the bearer-JWT security scheme, and the schema route every service exposes."""
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularAPIView


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "shopkit.auth.JWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def schema_urlpatterns(service: str) -> list:
    """``/api/v1/schema/<service>/`` as JSON, for ``Accept: application/json`` as well as the OpenAPI type."""
    view = SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2, OpenApiJsonRenderer])
    return [path(f"api/v1/schema/{service}/", view, name="schema")]
