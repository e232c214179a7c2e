"""Test helper: every route of a service's OpenAPI document, called with overflowing and deeply nested values.

`hostile_requests(document)` yields the requests, deterministically (no randomness: a failure names the exact
request, and the next run sends the same ones); a test sends each one however it reaches the service (Django's
test client in a service's suite, the gateway in e2e) and asserts that none is answered with a 5xx. What a
hostile client sends must end as a 4xx problem (shopkit.guard), never as a crash.
"""
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

# Query and path values: numbers past every column and every int64, non-finite ones, digits past Python's
# int-from-string limit (4300), and a NUL character (PostgreSQL refuses it in any string).
HOSTILE_TEXT = ("1000000000000000000", "-1000000000000000000", "9" * 40, "1e999999", "-1e999999", "NaN",
                "Infinity", "9" * 5000, "0", "-1", "a\x00b")
# JSON values for body fields: the same, typed, and structures nested past the guard's depth limit.
DEEP = 200  # levels of a nested field value (beyond shopkit.guard.MAX_JSON_DEPTH)
DEEPEST = 100_000  # levels of a whole body nested as [[[…]]] (beyond the parser's own stack)
HOSTILE_JSON = (10 ** 30, -(10 ** 30), 2 ** 63, -(2 ** 63) - 1, 1e308, -1e308, "9" * 400, "1e999999", "",
                None, "a\x00b", "nested-list", "nested-object")
_PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class HostileRequest:
    method: str
    path: str  # with its query string
    body: bytes | None  # JSON, sent as application/json
    what: str  # which value went where, for the failure message

    def __str__(self) -> str:
        return f"{self.method} {self.path[:160]} ({self.what})"


def _nested(kind: str, depth: int) -> bytes:
    if kind == "nested-list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _example(schema: dict, components: dict, depth: int = 0):
    """A plausible value for ``schema``: the base a single hostile field is put into."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    for combinator in ("allOf", "oneOf", "anyOf"):
        if schema.get(combinator):
            return _example(schema[combinator][0], components, depth)
    if "enum" in schema and schema["enum"]:
        return next((v for v in schema["enum"] if v is not None), None)
    kind = schema.get("type", "object")
    if kind == "object":
        if depth > 4:
            return {}
        return {name: _example(prop, components, depth + 1)
                for name, prop in schema.get("properties", {}).items() if not prop.get("readOnly")}
    if kind == "array":
        return [_example(schema.get("items", {}), components, depth + 1)] if depth <= 4 else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    fmt = schema.get("format", "")
    return {"email": "walker@example.com", "uuid": _PLACEHOLDER_ID, "decimal": "1.00",
            "date-time": "2026-01-01T00:00:00Z", "uri": "https://example.com/x"}.get(fmt, "x")


def _fields(value, prefix=()) -> Iterator[tuple]:
    """Paths to every field of ``value`` (object keys and first array items), outermost first."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _fields(child, (*prefix, key))
    elif isinstance(value, list) and value:
        yield (*prefix, 0)
        yield from _fields(value[0], (*prefix, 0))


_MARK = "\u0000hostile\u0000"


def _with(base, path: tuple, hostile) -> bytes:
    """``base`` as JSON with the field at ``path`` replaced by ``hostile`` (nested kinds spliced in as bytes)."""
    copy = json.loads(json.dumps(base))
    target = copy
    for step in path[:-1]:
        target = target[step]
    nested = hostile in ("nested-list", "nested-object")
    target[path[-1]] = _MARK if nested else hostile
    text = json.dumps(copy).encode()
    if nested:
        text = text.replace(json.dumps(_MARK).encode(), _nested(hostile, DEEP))
    return text


def hostile_requests(document: dict) -> Iterator[HostileRequest]:
    """Requests for every operation in the OpenAPI ``document``: each path and query parameter in turn set to
    each of HOSTILE_TEXT, and (for operations with a JSON body) the body nested DEEPEST levels deep as a whole,
    and each field in turn set to each of HOSTILE_JSON."""
    components = document.get("components", {}).get("schemas", {})
    for route, operations in sorted(document.get("paths", {}).items()):
        for method, operation in sorted(operations.items()):
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            method = method.upper()
            parameters = operation.get("parameters", []) + operations.get("parameters", [])
            path_names = [p["name"] for p in parameters if p.get("in") == "path"]

            def fill(values: dict) -> str:
                return re.sub(r"\{([^}]+)\}", lambda m: quote(str(values.get(m.group(1), _PLACEHOLDER_ID)),
                                                               safe=""), route)

            content = operation.get("requestBody", {}).get("content", {})
            schema = next((c.get("schema") for t, c in content.items() if "json" in t), None)
            base = _example(schema, components) if schema else None
            body = json.dumps(base).encode() if schema else None
            for name in path_names:
                for value in HOSTILE_TEXT:
                    yield HostileRequest(method, fill({name: value}), body, f"path {name}={value[:20]}")
            query_names = [p["name"] for p in parameters if p.get("in") == "query"]
            if method == "GET":  # a list the document does not call paginated may still read them
                query_names += [name for name in ("page", "page_size") if name not in query_names]
            for name in query_names:
                for value in HOSTILE_TEXT:
                    query = urlencode({name: value})
                    yield HostileRequest(method, f"{fill({})}?{query}", body, f"query {name}={value[:20]}")
            if schema is None:
                continue
            for kind in ("nested-list", "nested-object"):
                yield HostileRequest(method, fill({}), _nested(kind, DEEPEST), f"body {kind} {DEEPEST} deep")
            for field in _fields(base):
                for value in HOSTILE_JSON:
                    yield HostileRequest(method, fill({}), _with(base, field, value),
                                         f"body {'.'.join(map(str, field))}={str(value)[:20]}")


def server_errors(send, document: dict) -> tuple[int, list[str]]:
    """Send every request of `hostile_requests` with ``send(request) -> status``; return how many were sent
    and a line for each answered with a 5xx."""
    sent, failures = 0, []
    for request in hostile_requests(document):
        status = send(request)
        sent += 1
        if status >= 500:
            failures.append(f"{status} {request}")
    return sent, failures


def django_client_sender(client, **headers):
    """``send`` for `server_errors` through Django's test client (a crash answers 500 instead of raising)."""
    client.raise_request_exception = False
    return lambda r: client.generic(r.method, r.path, r.body or b"", content_type="application/json",
                                    **headers).status_code
