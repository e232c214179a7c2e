"""HTTP views of identity: parse the request, call a service, serialize the result."""
import ipaddress

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.constants import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, TOKEN_TYPE
from accounts.keys import jwks
from accounts.selectors import user_get_active
from accounts.services import (
    password_reset_confirm,
    password_reset_request,
    token_logout,
    token_obtain,
    token_refresh,
    user_register,
)
from shopkit.auth import IsSignedIn

JWKS_MAX_AGE_SECONDS = 60  # short: other services refetch on an unknown kid anyway, and retirements show soon


class _TextOnly:
    """DRF turns 123 into "123"; a number or a boolean where text belongs is the client's mistake."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.", code="type")
        return super().to_internal_value(data)


class TextField(_TextOnly, serializers.CharField):
    pass


class EmailAddressField(_TextOnly, serializers.EmailField):
    pass


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(description=f"application/problem+json: {description}")


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class UserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()


class TokenOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the access token is valid.")
    refresh_expires_in = serializers.IntegerField(help_text="Seconds the refresh token is valid.")


def _token_response(pair) -> Response:
    body = {"access": pair.access, "refresh": pair.refresh, "token_type": TOKEN_TYPE,
            "expires_in": pair.expires_in, "refresh_expires_in": pair.refresh_expires_in}
    # Tokens are credentials: no cache on the way may keep them.
    return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


class RegisterInput(serializers.Serializer):
    email = EmailAddressField(max_length=EMAIL_MAX_LENGTH)
    password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)
    name = TextField(max_length=NAME_MAX_LENGTH)


class RegisterApi(APIView):
    # No authentication: a stale Bearer header left in a client must not stop anyone from signing up or in.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_register", request=RegisterInput,
                   responses={201: UserOutput, 400: _problem("invalid fields or a weak password (errors.password)"),
                              409: _problem("the email already has an account")})
    def post(self, request):
        user = user_register(**_validated(RegisterInput, request))
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class TokenInput(serializers.Serializer):
    email = EmailAddressField(max_length=EMAIL_MAX_LENGTH)
    password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class TokenApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_token", request=TokenInput,
                   responses={200: TokenOutput, 400: _problem("invalid fields"),
                              401: _problem("wrong email or password"),
                              429: _problem("too many failed sign-ins; see Retry-After")})
    def post(self, request):
        data = _validated(TokenInput, request)
        pair = token_obtain(email=data["email"], password=data["password"], client_ip=client_address(request))
        return _token_response(pair)


class RefreshInput(serializers.Serializer):
    refresh = TextField(max_length=8192)


class TokenRefreshApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_token_refresh", request=RefreshInput,
                   responses={200: TokenOutput, 400: _problem("invalid fields"),
                              401: _problem("invalid, expired, revoked or already used refresh token")})
    def post(self, request):
        return _token_response(token_refresh(**_validated(RefreshInput, request)))


class LogoutApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_logout", request=RefreshInput,
                   responses={204: OpenApiResponse(description="every refresh token of that sign-in is revoked"),
                              400: _problem("invalid fields"),
                              401: _problem("not a refresh token identity signed")})
    def post(self, request):
        token_logout(**_validated(RefreshInput, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetInput(serializers.Serializer):
    email = EmailAddressField(max_length=EMAIL_MAX_LENGTH)


class PasswordResetApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_password_reset", request=PasswordResetInput,
                   responses={202: OpenApiResponse(description="accepted, whether or not the account exists; "
                                                               "an existing one is sent a one-time link"),
                              400: _problem("invalid fields"),
                              429: _problem("too many requests for this address or from this client; "
                                            "see Retry-After")})
    def post(self, request):
        data = _validated(PasswordResetInput, request)
        password_reset_request(email=data["email"], client_ip=client_address(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmInput(serializers.Serializer):
    token = TextField(max_length=200)
    password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class PasswordResetConfirmApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_password_reset_confirm", request=PasswordResetConfirmInput,
                   responses={204: OpenApiResponse(description="password changed; every sign-in of the account "
                                                               "is revoked"),
                              400: _problem("unknown, used or expired token (invalid-reset-token), "
                                            "or a weak password (errors.password)"),
                              429: _problem("too many failed attempts from this client; see Retry-After")})
    def post(self, request):
        data = _validated(PasswordResetConfirmInput, request)
        password_reset_confirm(token=data["token"], password=data["password"], client_ip=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [IsSignedIn]

    @extend_schema(operation_id="auth_me", responses={200: UserOutput, 401: _problem("not signed in")})
    def get(self, request):
        user = user_get_active(user_id=request.user.id)
        if user is None:
            raise exceptions.AuthenticationFailed("The account no longer exists or is disabled.")
        return Response(UserOutput(user).data)


class JwksApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_jwks",
                   responses={200: OpenApiResponse(description="JSON Web Key Set: the keys that verify tokens")})
    def get(self, request):
        return Response(jwks(), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"})


def client_address(request) -> str:
    """The caller's IP: the entry the nearest trusted proxy added to X-Forwarded-For, else the socket peer.

    Entries left of the trusted ones are written by the client and could name anyone, so they are ignored.
    """
    hops = settings.IDENTITY["TRUSTED_PROXY_HOPS"]
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    candidate = forwarded[-hops] if hops > 0 and len(forwarded) >= hops else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return request.META.get("REMOTE_ADDR", "")
