"""Staff HTTP routes of the email ledger: list with filters, and one message with its bodies."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mail import constants
from mail.selectors import email_get, email_list
from shopkit.auth import IsStaff
from shopkit.pagination import Pagination


class EmailOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    to = serializers.CharField()
    subject = serializers.CharField()
    kind = serializers.ChoiceField(choices=constants.KINDS)
    status = serializers.ChoiceField(choices=constants.STATUSES)
    attempts = serializers.IntegerField()
    cause_event_id = serializers.CharField()
    order_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class EmailDetailOutputSerializer(EmailOutputSerializer):
    last_error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField()
    body = serializers.CharField(source="body_text", help_text="The text body (DESIGN.md §5 names it `body`).")
    body_text = serializers.CharField()
    body_html = serializers.CharField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.kind in constants.KINDS_WITH_SECRET_BODY:  # staff must not be able to reset a customer's password
            data.update(body=constants.WITHHELD_BODY, body_text=constants.WITHHELD_BODY,
                        body_html=constants.WITHHELD_BODY)
        return data


class EmailFilterSerializer(serializers.Serializer):
    to = serializers.CharField(required=False, max_length=254)
    order_id = serializers.CharField(required=False, max_length=100)
    kind = serializers.ChoiceField(required=False, choices=constants.KINDS)
    status = serializers.ChoiceField(required=False, choices=constants.STATUSES)
    cause_event_id = serializers.CharField(required=False, max_length=100)


class EmailListApi(APIView):
    permission_classes = [IsStaff]
    pagination_class = Pagination  # also tells the OpenAPI generator the list is paginated

    @extend_schema(operation_id="emails_list", parameters=[EmailFilterSerializer],
                   responses=EmailOutputSerializer(many=True), summary="The email ledger, newest first (staff)")
    def get(self, request):
        filters = EmailFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(email_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(EmailOutputSerializer(page, many=True).data)


class EmailDetailApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="emails_retrieve", responses=EmailDetailOutputSerializer,
                   summary="One email with its text and HTML bodies (staff)")
    def get(self, request, email_id):
        return Response(EmailDetailOutputSerializer(email_get(email_id=email_id)).data)
