"""OpenAPI documents and routes: the bearer-JWT scheme, the schema route, and routes that take an optional slash."""
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


def path_with_slash_alias(route: str, view, name: str) -> list:
    """``route`` exactly as DESIGN.md §5 spells it (``…/cancel``), and the same with a trailing slash for
    clients used to Django's style (APPEND_SLASH is off). The document lists the canonical one only."""
    return [path(route, view.as_view(), name=name), path(f"{route}/", view.as_view())]


def drop_slashed_aliases(endpoints):
    """drf-spectacular preprocessing hook: leave out ``/x/`` where ``/x`` is the same route without the slash."""
    canonical = {(route, method) for route, _, method, _ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and (e[0].rstrip("/"), e[2]) in canonical)]
