"""Routes of the mail app, mounted at /api/v1/emails/."""
from django.urls import path

from mail.apis import EmailDetailApi, EmailListApi

urlpatterns = [
    path("", EmailListApi.as_view(), name="email-list"),
    path("<uuid:email_id>/", EmailDetailApi.as_view(), name="email-detail"),
]
