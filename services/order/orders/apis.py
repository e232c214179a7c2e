"""The order routes of DESIGN.md §5: thin views that parse the request, call a service or selector, serialize."""
import hashlib
import json
import re
import threading
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shopkit.auth import IsCustomer, IsSignedIn, IsStaff
from shopkit.problems import ApplicationError
from shopkit.rendering import compile_shape

from orders import constants, selectors, services

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,%d}$" % constants.IDEMPOTENCY_KEY_MAX_LENGTH)
_PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")


# --- input --------------------------------------------------------------------------------------------------------

class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "2", 2.0 and true are refused rather than coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class OrderItemInput(serializers.Serializer):
    product_id = serializers.CharField(max_length=100)
    quantity = StrictIntegerField(min_value=constants.MIN_QUANTITY, max_value=constants.MAX_QUANTITY)

    def validate_product_id(self, value):
        # Product ids are UUIDs in their canonical form on the events; an upper-case copy names the same product.
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value


class ShippingAddressInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True, default="")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2 code, e.g. DE",
                                     error_messages={"invalid": "Give a two-letter country code (ISO 3166-1)."})

    def validate_country(self, value):
        return value.upper()


class OrderPlaceInput(serializers.Serializer):
    items = OrderItemInput(many=True, min_length=1, max_length=constants.MAX_LINES,
                           help_text="Lines naming the same product are merged into one (quantities added).")
    shipping_address = ShippingAddressInput()


class OrderCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=constants.REASON_MAX_LENGTH, required=False, allow_blank=True)


class OrderListFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=constants.STATUSES, required=False)


class _InputSerializers(threading.local):
    """Each thread's own instance of each input serializer (see validated())."""

    def __init__(self):
        self.by_class = {}


_input_serializers = _InputSerializers()


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """``serializer_class(data=data)``'s validated data; raises its ValidationError (a 400 with field errors).

    A new DRF serializer deep-copies every declared field (nested serializers and their fields too), which cost
    more than the validation itself on the order POST. So each thread keeps one instance of each input
    serializer, its fields bound once, and validates the next request's data with it after forgetting the last
    one's: validating reads the bound fields and never writes them, and an instance never crosses threads
    (gunicorn's gthread workers share a process; sharing bound fields between threads would not be safe).
    For serializers without context, per-request state or mutable defaults — the inputs of this module.
    """
    serializer = _input_serializers.by_class.get(serializer_class)
    if serializer is None:
        serializer = _input_serializers.by_class[serializer_class] = serializer_class()
    serializer.initial_data = data
    try:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
    finally:
        for state in ("initial_data", "_validated_data", "_errors", "_data"):  # what is_valid() leaves behind
            serializer.__dict__.pop(state, None)


# --- output -------------------------------------------------------------------------------------------------------

class OrderLineOutput(serializers.Serializer):
    product_id = serializers.CharField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class StatusHistoryOutput(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class ShippingAddressOutput(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()


class OrderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=constants.STATUSES)
    items = OrderLineOutput(source="lines", many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    shipping_address = ShippingAddressOutput()
    customer_id = serializers.CharField()
    customer_email = serializers.CharField()
    customer_name = serializers.CharField()
    history = StatusHistoryOutput(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# OrderOutput stays the one definition of an order's JSON (the OpenAPI document describes it); responses render
# it through its compiled shape, without DRF's per-field machinery (tests check both give the same JSON).
order_json = compile_shape(OrderOutput)
orders_json = compile_shape(OrderOutput, many=True)


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=[constants.TIMELINE_STATUS, constants.TIMELINE_EMAIL])
    title = serializers.CharField()
    detail = serializers.CharField()
    correlation_id = serializers.CharField()


def _order_response(order_id, user, status: int = 200, headers: dict | None = None) -> Response:
    # Re-read through the selector so the answer has the committed lines and history, as GET would show them.
    order = selectors.order_get(user=user, order_id=order_id)
    return Response(order_json(order), status=status, headers=headers)


def request_fingerprint(data) -> str:
    """The request body as canonical JSON, hashed: key order and whitespace do not make two bodies different."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- views --------------------------------------------------------------------------------------------------------

class OrderListCreateApi(GenericAPIView):
    serializer_class = OrderOutput

    def get_permissions(self):
        return [IsCustomer()] if self.request.method == "POST" else [IsSignedIn()]

    @extend_schema(operation_id="orders_list", parameters=[OrderListFilter],
                   responses={200: OrderOutput(many=True), 400: _PROBLEM, 401: _PROBLEM})
    def get(self, request):
        query = validated(OrderListFilter, request.query_params)
        orders = selectors.order_list(user=request.user, status=query.get("status"))
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(orders_json(page))

    @extend_schema(
        operation_id="orders_place", request=OrderPlaceInput,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                                     description="Repeat the same body with the same key to get the same order "
                                                 "back; another body with a used key is 422.")],
        responses={201: OrderOutput, 400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM})
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "")
        if key and not _IDEMPOTENCY_KEY.match(key):
            raise ApplicationError(
                f"Idempotency-Key must be 1–{constants.IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters.",
                code="invalid-idempotency-key")
        body = validated(OrderPlaceInput, request.data)
        order, created = services.order_place(
            customer=services.Customer(id=request.user.id, email=request.user.email, name=request.user.name),
            items=body["items"],
            shipping_address=body["shipping_address"],
            idempotency_key=key,
            fingerprint=request_fingerprint(request.data) if key else "",
        )
        # A repeat answers like the first request did (201, same order), marked so a client can tell.
        headers = {"Location": f"/api/v1/orders/{order.id}/"}
        if created:
            return Response(order_json(selectors.order_as_placed(order)), status=201, headers=headers)
        headers["Idempotent-Replayed"] = "true"
        return _order_response(order.id, request.user, status=201, headers=headers)


class OrderDetailApi(APIView):
    permission_classes = [IsSignedIn]

    @extend_schema(operation_id="orders_retrieve", responses={200: OrderOutput, 401: _PROBLEM, 404: _PROBLEM})
    def get(self, request, order_id):
        return _order_response(order_id, request.user)


class OrderCancelApi(APIView):
    permission_classes = [IsSignedIn]

    @extend_schema(operation_id="orders_cancel", request=OrderCancelInput,
                   responses={200: OrderOutput, 401: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM})
    def post(self, request, order_id):
        body = validated(OrderCancelInput, request.data or {})
        selectors.order_get(user=request.user, order_id=order_id)  # someone else's order is 404, not 403
        services.order_cancel(order_id=order_id, by_staff=request.user.is_staff, reason=body.get("reason", ""))
        return _order_response(order_id, request.user)


class OrderShipApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="orders_ship", request=None,
                   responses={200: OrderOutput, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM})
    def post(self, request, order_id):
        services.order_ship(order_id=order_id)
        return _order_response(order_id, request.user)


class OrderDeliverApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="orders_deliver", request=None,
                   responses={200: OrderOutput, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM})
    def post(self, request, order_id):
        services.order_deliver(order_id=order_id)
        return _order_response(order_id, request.user)


class OrderTimelineApi(APIView):
    permission_classes = [IsSignedIn]

    @extend_schema(operation_id="orders_timeline", responses={200: TimelineEntryOutput(many=True), 401: _PROBLEM,
                                                              404: _PROBLEM})
    def get(self, request, order_id):
        entries = selectors.order_timeline(user=request.user, order_id=order_id)
        return Response(TimelineEntryOutput(entries, many=True).data)
