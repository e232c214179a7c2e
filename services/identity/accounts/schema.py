"""How identity's routes appear in its OpenAPI document (the bearer scheme itself comes from shopkit.openapi)."""


def drop_slashed_aliases(endpoints):
    """drf-spectacular preprocessing hook: leave out ``/x/`` where ``/x`` is the same route without the slash."""
    canonical = {(path, method) for path, _, method, _ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and (e[0].rstrip("/"), e[2]) in canonical)]
