"""RFC 9457 problem details: the one application error type and the one handler that renders every error."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApplicationError(Exception):
    """A business rule said no. Raised by services; turned into a problem response by ``exception_handler``.

    ``code`` becomes the problem ``type`` (``urn:shop:problem:<code>``) so clients can branch on it.
    """

    def __init__(self, detail: str, *, status: int = 400, code: str = "invalid", title: str | None = None,
                 errors: dict | None = None, extra: dict | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.headers = headers or {}  # e.g. Retry-After on a 429, WWW-Authenticate on a 401
        self.detail = detail
        self.status = status
        self.code = code
        self.title = title or _TITLES.get(status, "Error")
        self.errors = errors
        self.extra = extra or {}


class Conflict(ApplicationError):
    def __init__(self, detail: str, *, code: str = "conflict", **kwargs):
        super().__init__(detail, status=409, code=code, **kwargs)


class NotFound(ApplicationError):
    def __init__(self, detail: str = "Not found.", *, code: str = "not-found", **kwargs):
        super().__init__(detail, status=404, code=code, **kwargs)


def problem(status_code: int, detail: str, *, code: str | None = None, title: str | None = None,
            errors: dict | None = None, **extra) -> dict:
    body = {
        "type": f"urn:shop:problem:{code}" if code else "about:blank",
        "title": title or _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status_code: int, detail: str, **kwargs) -> Response:
    return Response(problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error a view raises becomes ``application/problem+json``."""
    if isinstance(exc, ApplicationError):
        response = problem_response(exc.status, exc.detail, code=exc.code, title=exc.title, errors=exc.errors,
                                    **exc.extra)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500 through handler500
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response = problem_response(400, "The request has invalid fields.", code="validation",
                                    errors=_flatten(errors))
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response = problem_response(exc.status_code, str(exc.detail), code=code.replace("_", "-"))
    for name, value in headers.items():
        response[name] = value
    return response


def _flatten(errors):
    """DRF error details as plain strings, nested objects kept (``items[0].quantity`` stays under items)."""
    if isinstance(errors, dict):
        return {str(k): _flatten(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [_flatten(v) for v in errors]
    return str(errors)


def _json_problem(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse(problem(status_code, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def handler404(request, exception=None):
    return _json_problem(404, "No such resource.")


def handler500(request):
    return _json_problem(500, "The server failed to handle the request; it has been logged.")

