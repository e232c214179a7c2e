"""Routes of identity, exactly as DESIGN.md §5 spells them; each also answers with a trailing slash."""
from django.urls import path

from accounts import apis
from shopkit.openapi import path_with_slash_alias

urlpatterns = [
    path("api/v1/auth/jwks.json", apis.JwksApi.as_view(), name="auth-jwks"),
    *path_with_slash_alias("api/v1/auth/register", apis.RegisterApi, "auth-register"),
    *path_with_slash_alias("api/v1/auth/token", apis.TokenApi, "auth-token"),
    *path_with_slash_alias("api/v1/auth/token/refresh", apis.TokenRefreshApi, "auth-token-refresh"),
    *path_with_slash_alias("api/v1/auth/logout", apis.LogoutApi, "auth-logout"),
    *path_with_slash_alias("api/v1/auth/password-reset", apis.PasswordResetApi, "auth-password-reset"),
    *path_with_slash_alias("api/v1/auth/password-reset/confirm", apis.PasswordResetConfirmApi,
                           "auth-password-reset-confirm"),
    *path_with_slash_alias("api/v1/auth/me", apis.MeApi, "auth-me"),
]
