"""URLs of shopkit's test project: health checks and a view or two that exercise auth and problems."""
from django.urls import include, path

from shopkit.openapi import schema_urlpatterns
from tests.kitapp import views

urlpatterns = [
    path("", include("shopkit.health")),
    path("whoami", views.WhoAmI.as_view()),
    path("staff-only", views.StaffOnly.as_view()),
    path("boom", views.Boom.as_view()),
    path("notes", views.Notes.as_view()),
    *schema_urlpatterns("kittest"),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
