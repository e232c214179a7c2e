"""The hostile-input guard every service uses: bounded page numbers and query numbers, a JSON depth limit, and no
NUL characters.

What a hostile client sends must end as a 400 problem, never as a 500: a page number whose offset no database
column holds (`?page=1000000000000000000`), a number in a filter that overflows, a body nested so deeply that
parsing it exhausts the interpreter's stack (`[[[[…]]]]`), a NUL character (`%00`, `\u0000`) that PostgreSQL
refuses to store or compare.
"""
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

from django.http import JsonResponse
from rest_framework import exceptions, parsers

from shopkit.problems import ApplicationError

# 100 rows a page: a hundred million rows, beyond any list here; offsets stay far inside a 64-bit column.
MAX_PAGE = 1_000_000
# The deepest body of the API is an order (object → items → item) or a problem's errors: a handful of levels.
MAX_JSON_DEPTH = 32


def _invalid(name: str, message: str) -> ApplicationError:
    return ApplicationError("The query has invalid parameters.", status=400, code="validation",
                            errors={name: [message]})


def bounded_page(raw, *, name: str = "page"):
    """``raw`` as given when it is no integer or one up to MAX_PAGE (the paginator judges it: 404 for a page
    that does not exist); raises a 400 problem for an integer beyond MAX_PAGE."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return raw
    if number > MAX_PAGE:
        raise _invalid(name, f"At most {MAX_PAGE}.")
    return raw


def query_decimal(params, name: str, *, low: Decimal | int, high: Decimal | int,
                  message: str = "") -> Decimal | None:
    """The query parameter ``name`` as a finite Decimal within [low, high], None when absent; a 400 problem
    naming the parameter otherwise (1e999999, NaN and 30-digit numbers included)."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not low <= value <= high:
        raise _invalid(name, message or f"A number from {low} to {high}.")
    return value


def json_depth(value, *, limit: int) -> int:
    """How deeply ``value`` nests (a scalar is 0, ``[]`` is 1), counted without recursion; stops counting at
    ``limit + 1``."""
    return _inspect(value, limit=limit)[0]


def _inspect(value, *, limit: int) -> tuple[int, bool]:
    """(depth as `json_depth` counts it, whether any string or key holds a NUL), without recursion."""
    deepest, nul, stack = 0, False, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            nul = nul or "\x00" in item
        elif isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest, nul
            if isinstance(item, dict):
                nul = nul or any("\x00" in key for key in item)
                children = item.values()
            else:
                children = item
            stack.extend((child, depth + 1) for child in children)
    return deepest, nul


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a depth limit: deeper bodies are a 400 problem (and one too deep for the parser's
    own stack, which would be a RecursionError, too). A string holding a NUL character is a 400 problem."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        depth, nul = _inspect(data, limit=MAX_JSON_DEPTH)
        if depth > MAX_JSON_DEPTH:
            raise too_deep
        if nul:
            raise exceptions.ParseError("JSON parse error - strings must not contain NUL characters.")
        return data


class NulCharacterMiddleware:
    """A NUL character in the path or the query string is a 400 problem before any view runs: no field of the
    shop holds one, and PostgreSQL refuses to compare with one (a 500 otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            body = {"type": "urn:shop:problem:validation", "title": "Bad request", "status": 400,
                    "detail": "The path and the query must not contain NUL characters."}
            return JsonResponse(body, status=400, content_type="application/problem+json")
        return self.get_response(request)
