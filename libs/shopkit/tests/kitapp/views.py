"""Views that exercise shopkit's authentication, permissions and problem responses."""
from django.db import transaction
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shopkit import events
from shopkit.auth import IsSignedIn, IsStaff
from shopkit.messaging.outbox import emit
from shopkit.pagination import Pagination
from shopkit.problems import Conflict


class WhoAmI(APIView):
    permission_classes = [IsSignedIn]

    def get(self, request):
        u = request.user
        return Response({"id": u.id, "email": u.email, "name": u.name, "role": u.role})


class StaffOnly(APIView):
    permission_classes = [IsStaff]

    def get(self, request):
        return Response({"ok": True})


class Boom(APIView):
    def post(self, request):
        raise Conflict("already done", code="already-done")


class Notes(APIView):
    def post(self, request):
        with transaction.atomic():
            event = emit(events.USER_REGISTERED, {"user_id": "u1", "email": "a@b.c", "name": "A"}, subject="u1")
        return Response({"event_id": event.id, "correlationid": event.correlationid}, status=201)


class Echo(APIView):
    """Answers with the body it parsed (through shopkit's guarded JSON parser)."""

    def post(self, request):
        return Response({"received": request.data})


class Numbers(ListAPIView):
    """The numbers 1–50, paginated by shopkit's Pagination."""

    pagination_class = Pagination
    serializer_class = serializers.Serializer

    def get_queryset(self):
        return list(range(1, 51))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(page)


def crash(request):
    """An unexpected exception: the service answers 500 (and the metrics count it)."""
    raise RuntimeError("an unexpected failure")
