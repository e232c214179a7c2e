"""URLs of shopkit's test project: health checks and a view or two that exercise auth and problems."""
from django.urls import include, path

from shopkit.openapi import path_with_slash_alias, schema_urlpatterns
from shopkit.ops import ops_urlpatterns
from tests.kitapp import views

urlpatterns = [
    path("", include("shopkit.health")),
    path("whoami", views.WhoAmI.as_view()),
    path("staff-only", views.StaffOnly.as_view()),
    *path_with_slash_alias("boom", views.Boom, "boom"),
    path("notes", views.Notes.as_view()),
    path("echo", views.Echo.as_view()),
    path("numbers", views.Numbers.as_view()),
    path("crash/<int:n>", views.crash),
    *schema_urlpatterns("kittest"),
]


def urlpatterns_with_ops():
    """The ops routes follow the service name, which each messaging test sets for itself (tests/test_ops.py)."""
    return [*urlpatterns, *ops_urlpatterns()]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
