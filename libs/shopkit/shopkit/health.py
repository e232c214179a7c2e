"""Liveness (`/healthz`), readiness (`/readyz`: database and broker reachable) and metrics (`/metrics`) endpoints."""
import socket
from urllib.parse import urlsplit

from django.db import connection
from django.http import JsonResponse
from django.urls import path

from shopkit.messaging.config import rabbitmq_url
from shopkit.metrics import metrics_view


def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
        return f"database: {exc}"
    return None


def _broker_ok() -> str | None:
    url = urlsplit(rabbitmq_url())
    port = url.port or (5671 if url.scheme == "amqps" else 5672)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", port), timeout=1):
            return None
    except OSError as exc:
        return f"broker: {exc}"


def readyz(request):
    failures = [f for f in (_database_ok(), _broker_ok()) if f]
    if failures:
        return JsonResponse({"status": "unavailable", "failures": failures}, status=503)
    return JsonResponse({"status": "ok"})


def database_problem() -> str | None:
    """Why this service's database does not answer, or None."""
    return _database_ok()


def broker_problem() -> str | None:
    """Why the broker's port cannot be reached, or None."""
    return _broker_ok()


urlpatterns = [path("healthz", healthz), path("readyz", readyz), path("metrics", metrics_view)]
