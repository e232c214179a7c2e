"""The hostile-input guard every service uses: bounded page numbers and query numbers, and a JSON depth limit.

What a hostile client sends must end as a 400 problem, never as a 500: a page number whose offset no database
column holds (`?page=1000000000000000000`), a number in a filter that overflows, a body nested so deeply that
parsing it exhausts the interpreter's stack (`[[[[…]]]]`).
"""
from decimal import Decimal, InvalidOperation

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
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a depth limit: deeper bodies are a 400 problem (and one too deep for the parser's
    own stack, which would be a RecursionError, too)."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth(data, limit=MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise too_deep
        return data
