"""Routes of identity, exactly as DESIGN.md §5 spells them; each also answers with a trailing slash."""
from django.urls import path

from accounts import apis

_routes = [
    ("api/v1/auth/register", apis.RegisterApi, "auth-register"),
    ("api/v1/auth/token", apis.TokenApi, "auth-token"),
    ("api/v1/auth/token/refresh", apis.TokenRefreshApi, "auth-token-refresh"),
    ("api/v1/auth/me", apis.MeApi, "auth-me"),
]

urlpatterns = [path("api/v1/auth/jwks.json", apis.JwksApi.as_view(), name="auth-jwks")]
for route, view, name in _routes:
    # The slashed alias is for clients used to Django's style; the OpenAPI document shows only the canonical one.
    urlpatterns += [path(route, view.as_view(), name=name), path(f"{route}/", view.as_view())]
