"""The operations API every service mounts: its own pipeline status and parked messages, and the shop-wide status.

Routes (staff only, DESIGN.md §5; ``ops_urlpatterns()`` adds them to a service's urls):

  GET    /api/v1/ops/<this service>/status/                    this service: ready, outbox, queue, parked
  GET    /api/v1/ops/<this service>/parked/                    its parked messages (paginated)
  POST   /api/v1/ops/<this service>/parked/<id>/replay         202: back on its queue, attempt 1
  DELETE /api/v1/ops/<this service>/parked/<id>/               204: gone for good
  GET    /api/v1/ops/status/                                   every service's status

The shop-wide status is answered by whichever service the gateway sends it to: it asks each service listed in
``SHOPKIT_OPS['SERVICES']`` (name → base URL of its web port, from ``SHOP_SERVICE_URLS``) for its own status on
that port, never through the gateway, passing the caller's token on, so each service checks the caller itself.
A service that does not answer is reported not ready rather than failing the whole answer. Every replay and
discard is logged with who did it.
"""
import asyncio
import concurrent.futures
import json
import urllib.error
import urllib.request
from datetime import datetime, timezone

import aio_pika
from django.conf import settings
from django.db.models import Count, Min
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shopkit import health
from shopkit.auth import IsStaff
from shopkit.logging import get_logger
from shopkit.messaging import parking
from shopkit.messaging.config import consumer_settings, rabbitmq_url, service_name
from shopkit.messaging.models import OutboxMessage
from shopkit.problems import ApplicationError, NotFound

log = get_logger(__name__)

STATUS_TIMEOUT_SECONDS = 5.0  # per service asked for its status (they are asked at once); above the next one
QUEUE_STATS_TIMEOUT_SECONDS = 3.0  # a service's own look at its queues
# Bounds every broker conversation of a request: a broker in the middle of a restart can accept the connection
# and then stall, and the request must answer (503) long before gunicorn's worker timeout.
BROKER_TIMEOUT_SECONDS = 10.0
_PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")


def ops_settings() -> dict:
    return {"SERVICES": {}, **getattr(settings, "SHOPKIT_OPS", {})}


# --- one service's own status -------------------------------------------------------------------------------------

def service_status() -> dict:
    """This service's pipeline: ready (database and broker answer), its outbox's backlog, and, when it consumes
    events, the depth and consumers of its queue and the number of parked messages (None when it has no queue or
    the broker cannot tell)."""
    failures = [f for f in (health.database_problem(), health.broker_problem()) if f]
    status = {"service": service_name(), "ready": not failures, "outbox_pending": None, "outbox_oldest_age_s": None,
              "queue_depth": None, "consumers": None, "parked": None}
    if failures:
        status["error"] = "; ".join(failures)
    try:
        pending = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(
            count=Count("id"), oldest=Min("created_at"))
        status["outbox_pending"] = pending["count"]
        if pending["oldest"] is not None:
            status["outbox_oldest_age_s"] = round((datetime.now(timezone.utc) - pending["oldest"]).total_seconds(), 3)
        else:
            status["outbox_oldest_age_s"] = 0.0
    except Exception as exc:  # noqa: BLE001 - the database being away is what this page must show, not crash on
        status["ready"] = False
        status.setdefault("error", f"outbox: {exc}")
    if consumer_settings()["HANDLERS"]:
        try:
            stats = asyncio.run(asyncio.wait_for(parking.queue_stats(rabbitmq_url(), service_name()),
                                                 QUEUE_STATS_TIMEOUT_SECONDS))
            status.update(queue_depth=stats.depth, consumers=stats.consumers, parked=stats.parked)
        except Exception as exc:  # noqa: BLE001 - as above: the broker being away is shown
            status["ready"] = False
            status.setdefault("error", f"broker: {exc}")
    return status


# --- the shop-wide status -----------------------------------------------------------------------------------------

def shop_status(*, authorization: str, request_id: str = "") -> list[dict]:
    """Every service's status, in the order of ``SHOPKIT_OPS['SERVICES']`` (this service answers for itself)."""
    services = ops_settings()["SERVICES"] or {service_name(): ""}
    own = service_name()
    others = {name: url for name, url in services.items() if name != own}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(others), 1)) as pool:
        asked = {name: pool.submit(_remote_status, name, url, authorization=authorization, request_id=request_id)
                 for name, url in others.items()}
        # this service's own answer in the request's thread: its database connection is the request's
        mine = service_status() if own in services else None
        return [mine if name == own else asked[name].result() for name in services]


def _remote_status(name: str, base_url: str, *, authorization: str, request_id: str) -> dict:
    down = {"service": name, "ready": False, "outbox_pending": None, "outbox_oldest_age_s": None,
            "queue_depth": None, "consumers": None, "parked": None}
    request = urllib.request.Request(f"{base_url}/api/v1/ops/{name}/status/", headers={
        "Authorization": authorization, "Accept": "application/json",
        **({"X-Request-ID": request_id} if request_id else {})})
    try:
        with urllib.request.urlopen(request, timeout=STATUS_TIMEOUT_SECONDS) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        return {**down, "error": f"{name} answered {exc.code}"}
    except (OSError, ValueError) as exc:
        return {**down, "error": f"{name} unreachable: {exc}"}
    return {**down, **{key: answer.get(key) for key in (*down, "error") if key in answer}, "service": name}


# --- serializers --------------------------------------------------------------------------------------------------

class ServiceStatusOutput(serializers.Serializer):
    service = serializers.CharField()
    ready = serializers.BooleanField()
    outbox_pending = serializers.IntegerField(allow_null=True)
    outbox_oldest_age_s = serializers.FloatField(allow_null=True)
    queue_depth = serializers.IntegerField(allow_null=True)
    consumers = serializers.IntegerField(allow_null=True)
    parked = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(required=False)


class ParkedMessageOutput(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    correlation_id = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    attempts = serializers.IntegerField(allow_null=True)
    parked_at = serializers.CharField(allow_null=True)


# --- views --------------------------------------------------------------------------------------------------------

class ShopStatusApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="ops_status", responses={200: ServiceStatusOutput(many=True), 401: _PROBLEM,
                                                         403: _PROBLEM})
    def get(self, request):
        statuses = shop_status(authorization=request.headers.get("Authorization", ""),
                               request_id=request.headers.get("X-Request-ID", ""))
        return Response(ServiceStatusOutput(statuses, many=True).data)


class ServiceStatusApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="ops_service_status", responses={200: ServiceStatusOutput, 401: _PROBLEM,
                                                                 403: _PROBLEM})
    def get(self, request):
        return Response(ServiceStatusOutput(service_status()).data)


class ParkedListApi(GenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = ParkedMessageOutput

    @extend_schema(operation_id="ops_parked_list", responses={200: ParkedMessageOutput(many=True), 401: _PROBLEM,
                                                              403: _PROBLEM})
    def get(self, request):
        messages = _on_broker(parking.list_parked(rabbitmq_url(), service_name()))
        for message in messages:
            message["attempts"] = _int_or_none(message["attempts"])
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(ParkedMessageOutput(page, many=True).data)


class ParkedReplayApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="ops_parked_replay", request=None,
                   responses={202: None, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM})
    def post(self, request, message_id):
        replayed = _on_broker(parking.replay_parked(rabbitmq_url(), service_name(), [message_id]))
        if not replayed:
            raise NotFound("No parked message with this id.", code="not-parked")
        log.info("parked message replayed", message_id=message_id, queue_service=service_name(),
                 by=request.user.email, by_user_id=request.user.id)
        return Response(status=202)


class ParkedDiscardApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="ops_parked_discard", responses={204: None, 401: _PROBLEM, 403: _PROBLEM,
                                                                 404: _PROBLEM})
    def delete(self, request, message_id):
        discarded = _on_broker(parking.discard_parked(rabbitmq_url(), service_name(), [message_id]))
        if not discarded:
            raise NotFound("No parked message with this id.", code="not-parked")
        log.warning("parked message discarded", message_id=message_id, queue_service=service_name(),
                    by=request.user.email, by_user_id=request.user.id)
        return Response(status=204)


BROKER_ERRORS = (aio_pika.exceptions.AMQPError, ConnectionError, OSError, asyncio.TimeoutError)


def _on_broker(coroutine):
    """Run one parked-message operation; the broker being away is a 503 problem, not a 500."""
    try:
        return asyncio.run(asyncio.wait_for(coroutine, BROKER_TIMEOUT_SECONDS))
    except BROKER_ERRORS as exc:
        raise ApplicationError(f"The broker cannot be reached: {exc}", status=503, code="broker-unavailable") from None


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def ops_urlpatterns() -> list:
    """The ops routes of this service (named by ``SHOPKIT_SERVICE``) and the shop-wide status."""
    prefix = f"api/v1/ops/{service_name()}"
    return [
        path("api/v1/ops/status/", ShopStatusApi.as_view(), name="ops-status"),
        path(f"{prefix}/status/", ServiceStatusApi.as_view(), name="ops-service-status"),
        path(f"{prefix}/parked/", ParkedListApi.as_view(), name="ops-parked-list"),
        path(f"{prefix}/parked/<str:message_id>/replay", ParkedReplayApi.as_view(), name="ops-parked-replay"),
        path(f"{prefix}/parked/<str:message_id>/replay/", ParkedReplayApi.as_view()),
        path(f"{prefix}/parked/<str:message_id>/", ParkedDiscardApi.as_view(), name="ops-parked-discard"),
    ]
