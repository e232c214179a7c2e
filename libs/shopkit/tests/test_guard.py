"""Hosts, links and hostile input as a service's client meets them: 421 for foreign names, links from the public
URL, 400 problems (never a 500) for overflowing page numbers and deeply nested JSON."""
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from shopkit import guard, hosts
from shopkit.problems import ApplicationError

pytestmark = pytest.mark.django_db


def post_raw(client, url, raw: bytes):
    return client.generic("POST", url, raw, content_type="application/json")


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# --- hosts ----------------------------------------------------------------------------------------------------

def test_allowed_hosts_are_the_public_host_the_loopback_names_and_the_named_internal_ones():
    assert hosts.allowed_hosts("https://Shop.Example.com:8443", also=["identity-web"]) == [
        "shop.example.com", "localhost", "127.0.0.1", "[::1]", "identity-web"]
    assert hosts.allowed_hosts("http://[2001:db8::1]:8080")[0] == "[2001:db8::1]"
    with pytest.raises(ImproperlyConfigured, match="'\\*'"):
        hosts.allowed_hosts("http://localhost:8080", also=["*"])


def test_the_hosts_other_services_call_this_one_by_are_allowed(monkeypatch):
    monkeypatch.setenv("SHOP_SERVICE_URLS", "identity=http://identity-web:8001,order=http://order-web:8003")
    monkeypatch.delenv("SHOP_ALLOWED_HOSTS", raising=False)
    assert hosts.allowed_hosts_from_env("http://localhost:8080", "http://identity-web:8001/jwks.json") == [
        "localhost", "127.0.0.1", "[::1]", "identity-web", "order-web"]


@pytest.mark.parametrize("url", ["shop.example.com", "ftp://shop.example.com", "https://shop.example.com/shop",
                                 "https://"])
def test_a_public_url_that_is_no_origin_stops_startup(monkeypatch, url):
    monkeypatch.setenv("SHOP_PUBLIC_URL", url)
    with pytest.raises(ImproperlyConfigured, match="SHOP_PUBLIC_URL"):
        hosts.public_url_from_env()


def test_the_public_url_defaults_to_localhost_on_the_gateway_port(monkeypatch):
    monkeypatch.delenv("SHOP_PUBLIC_URL", raising=False)
    monkeypatch.setenv("SHOP_HTTP_PORT", "9090")
    assert hosts.public_url_from_env() == "http://localhost:9090"


def test_a_host_the_shop_does_not_serve_is_a_421_problem_before_any_view(client):
    body = assert_problem(client.get("/whoami", HTTP_HOST="evil.example"), 421)
    assert body["status"] == 421 and body["title"] == "Misdirected Request"
    assert assert_problem(client.post("/notes", HTTP_HOST="evil.example"), 421)
    for served in ("localhost:1234", "127.0.0.1", "[::1]:8080"):
        assert client.get("/numbers", HTTP_HOST=served).status_code == 200


def test_probes_answer_whatever_the_host(client):
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8002").status_code == 200


def test_page_links_start_with_the_public_url_whatever_the_host(client, settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    body = client.get("/numbers?page=2&page_size=10", HTTP_HOST="localhost:9999").json()
    assert body["next"] == "https://shop.example.com/numbers?page=3&page_size=10"
    assert body["previous"] == "https://shop.example.com/numbers?page_size=10"


# --- page numbers and query numbers ---------------------------------------------------------------------------

def test_a_page_number_past_the_bound_is_a_400_problem_naming_page(client):
    for page in ("1000000000000000000", str(guard.MAX_PAGE + 1), "9" * 5000):
        response = client.get(f"/numbers?page={page}")
        if page == "9" * 5000:  # too long to be read as a number at all: no such page
            assert_problem(response, 404)
            continue
        assert assert_problem(response, 400)["errors"] == {"page": [f"At most {guard.MAX_PAGE}."]}


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99", str(guard.MAX_PAGE)])
def test_other_bad_page_numbers_stay_a_404_invalid_page(client, page):
    assert assert_problem(client.get(f"/numbers?page={page}"), 404)["detail"] == "Invalid page."


def test_query_decimal_is_finite_and_bounded():
    assert guard.query_decimal({"p": " 12.50 "}, "p", low=0, high=100) == Decimal("12.50")
    assert guard.query_decimal({}, "p", low=0, high=100) is None
    for raw in ("1e999999", "NaN", "-Infinity", "101", "-1", "abc", "9" * 40):
        with pytest.raises(ApplicationError) as caught:
            guard.query_decimal({"p": raw}, "p", low=0, high=100)
        assert caught.value.status == 400 and "p" in caught.value.errors


# --- JSON depth -----------------------------------------------------------------------------------------------

def test_json_as_deep_as_the_limit_is_parsed():
    deep = json.loads("[" * guard.MAX_JSON_DEPTH + "]" * guard.MAX_JSON_DEPTH)
    assert guard.json_depth(deep, limit=guard.MAX_JSON_DEPTH) == guard.MAX_JSON_DEPTH
    assert guard.json_depth({"a": [1, {"b": 2}]}, limit=10) == 3
    assert guard.json_depth("scalar", limit=10) == 0


def test_a_body_nested_one_level_past_the_limit_is_a_400_problem(client):
    limit = guard.MAX_JSON_DEPTH
    fits = b"[" * limit + b"]" * limit
    assert post_raw(client, "/echo", fits).status_code == 200
    for raw in (b"[" * (limit + 1) + b"]" * (limit + 1), b'{"a":' * (limit + 1) + b"1" + b"}" * (limit + 1)):
        assert "nested deeper" in assert_problem(post_raw(client, "/echo", raw), 400)["detail"]


def test_a_body_too_deep_for_the_parser_itself_is_a_400_problem_not_a_crash(client):
    client.raise_request_exception = False
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        assert "nested deeper" in assert_problem(post_raw(client, "/echo", raw), 400)["detail"]


# --- NUL characters -------------------------------------------------------------------------------------------

def test_a_nul_character_in_the_path_or_query_is_a_400_problem(client):
    for url in ("/numbers?page_size=1%00", "/numbers?x=%00", "/who%00ami"):
        assert "NUL" in assert_problem(client.get(url), 400)["detail"]


def test_a_nul_character_in_a_json_string_or_key_is_a_400_problem(client):
    for raw in (b'{"a": "x\\u0000y"}', b'{"a\\u0000": 1}', b'[[["\\u0000"]]]'):
        assert "NUL" in assert_problem(post_raw(client, "/echo", raw), 400)["detail"]
    assert post_raw(client, "/echo", b'{"a": "\\\\u0000 is fine when escaped"}').status_code == 200
