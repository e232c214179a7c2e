"""The gateway's micro-cache of anonymous catalog reads, as clients meet it: one cached page per list the service
would render (ignored arguments and their order do not split it), nothing cached for anyone with a token or a
cookie, and no spelling of a query that could store one list's page under another list's key."""
import uuid

import pytest

LIST = "/api/v1/products/"
# the key of a page nginx already holds: fresh (HIT), or refreshed on the way (the first reader after the cache's
# second, REVALIDATED/EXPIRED) — anything but a MISS, which would mean another key
SAME_KEY = ("HIT", "REVALIDATED", "EXPIRED", "UPDATING")


@pytest.fixture
def tagged(make_product):
    """A product of its own (listed as soon as it is created) and the list path that finds only it: a key nobody
    has asked for yet."""
    tag = f"cache{uuid.uuid4().hex[:12]}"
    make_product(name=f"E2E {tag}")
    return tag, f"{LIST}?search={tag}"


def test_arguments_the_list_ignores_are_served_the_same_cached_page(gateway, tagged):
    _, path = tagged
    first = gateway.get(path + "&page_size=5")
    assert first.status == 200 and first.json["count"] == 1, first
    for variant in (path + "&page_size=5&_=1733059200123", path + "&utm_source=mail&page_size=5&utm_medium=x",
                    f"{LIST}?page_size=5&{path.split('?')[1]}&unknown="):
        again = gateway.get(variant)
        assert again.header("X-Cache-Status") in SAME_KEY, (variant, again.header("X-Cache-Status"))
        assert again.body == first.body and again.header("ETag") == first.header("ETag"), variant


def test_every_argument_the_list_reads_is_a_page_of_its_own(gateway, tagged):
    # the list's arguments as the product service publishes them: the gateway's key must name every one
    document = gateway.get("/api/v1/schema/product/", headers={"Accept": "application/json"}).json
    parameters = document["paths"]["/api/v1/products/"]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
    assert {"search", "category", "ordering", "page", "page_size"} <= names, names
    tag, path = tagged
    assert gateway.get(path).status == 200  # cached now
    for parameter in parameters:
        schema, name = parameter["schema"], parameter["name"]
        if name == "search":
            variant = f"{LIST}?search={tag}x"
        else:
            value = {"boolean": "true", "integer": "1"}.get(schema.get("type"), "1")
            if schema.get("enum"):
                value = schema["enum"][-1]
            variant = f"{path}&{name}={value}"
        response = gateway.get(variant)
        assert response.status == 200, (variant, response)
        assert response.header("X-Cache-Status") == "MISS", (variant, response.header("X-Cache-Status"))


@pytest.mark.parametrize("spelling", [
    "SEARCH={other}&search={tag}",      # nginx reads names without case, the service does not
    "search={other}&search={tag}",      # nginx reads the first, the service the last
    "search={other}&%73earch={tag}",    # the service decodes an escaped name, nginx does not
])
def test_a_query_the_gateway_could_misread_is_never_stored(gateway, tagged, spelling):
    # Each spelling is the service's search for the tagged product (one result), but nginx would read it as a
    # search for `other` (no result): stored, it would answer the next reader of `?search=<other>` wrongly.
    tag, _ = tagged
    other = f"none{uuid.uuid4().hex[:12]}"
    response = gateway.get(f"{LIST}?" + spelling.format(tag=tag, other=other))
    assert response.status == 200 and response.json["count"] == 1, response
    assert response.header("X-Cache-Status") == "BYPASS", response.header("X-Cache-Status")
    honest = gateway.get(f"{LIST}?search={other}")
    assert honest.json["count"] == 0, (spelling, honest.header("X-Cache-Status"))


def test_an_empty_page_number_is_the_service_s_answer_not_page_one(gateway, tagged):
    _, path = tagged
    assert gateway.get(path).status == 200
    response = gateway.get(path + "&page=")
    assert response.status == 404 and response.header("X-Cache-Status") == "BYPASS", response


def test_a_request_with_a_cookie_or_a_token_is_never_served_or_stored_by_the_cache(gateway, tagged, staff_token):
    _, path = tagged
    with_cookie = gateway.get(path, headers={"Cookie": "session=someone"})
    assert with_cookie.status == 200 and with_cookie.header("X-Cache-Status") == "BYPASS"
    with_token = gateway.get(path, token=staff_token)
    assert with_token.header("X-Cache-Status") == "BYPASS" and "no-store" in with_token.header("Cache-Control")
    # neither was stored: the first anonymous reader is still the one who fills the cache
    assert gateway.get(path).header("X-Cache-Status") == "MISS"
    assert gateway.get(path, headers={"Cookie": "session=someone"}).header("X-Cache-Status") == "BYPASS"
