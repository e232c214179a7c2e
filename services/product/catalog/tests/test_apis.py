"""The HTTP API of DESIGN.md §5 for products, categories and stock: shapes, filters, errors, permissions, caching."""
import json
import uuid

import pytest
from django.test import Client

from catalog.models import Category, Product, StockAdjustment
from shopkit import events
from shopkit.testing import auth_header, outbox_events

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"
PRODUCT_KEYS = {"id", "sku", "name", "description", "price", "currency", "category", "image_url", "active",
                "available", "created_at", "updated_at", "version"}


@pytest.fixture
def client():
    return Client()


def staff():
    return auth_header(role="staff", email="sam@example.com")


def customer():
    return auth_header(role="customer")


def detail(product):
    return f"{LIST}{product.id}/"


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def patch(client, url, body, **headers):
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def assert_problem(response, status, *fields):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for field in fields:
        assert field in body["errors"], body
    return body


# ------------------------------------------------------------------------------------------------ reading

def test_list_shows_active_products_in_the_contract_shape(client, make_product, category):
    shown = make_product(stock=4, price="12.50", category="coffee", description="Dark roast")
    make_product(active=False)
    body = client.get(LIST).json()
    assert body["count"] == 1 and body["previous"] is None and body["next"] is None
    [item] = body["results"]
    assert set(item) == PRODUCT_KEYS
    assert item["id"] == str(shown.id) and item["price"] == "12.50" and item["currency"] == "EUR"
    assert item["category"] == "coffee" and item["available"] == 4 and item["version"] == 1
    assert item["active"] is True and item["created_at"].endswith("Z")


def test_the_list_renders_products_exactly_as_the_product_serializer_does(client, make_product, category):
    # the shape is defined once (ProductSerializer); the list's fast rendering must not drift from it
    from catalog import selectors
    from catalog.serializers import ProductSerializer

    make_product(stock=2, price="3.10", category="coffee")
    make_product(stock=0, price="7.00")  # no category
    rows = selectors.product_list()
    expected = [ProductSerializer(row).data for row in rows]
    assert client.get(LIST).json()["results"] == json.loads(json.dumps(expected))
    first = expected[0]["id"]
    assert client.get(f"{LIST}{first}/").json() == json.loads(json.dumps(expected[0]))


def test_list_answers_in_a_fixed_number_of_queries(client, make_product, django_assert_num_queries):
    for _ in range(30):
        make_product()
    # validators, then one page of rows with its total count, category and stock joined: never one per product
    with django_assert_num_queries(2):
        assert len(client.get(LIST + "?page_size=30").json()["results"]) == 30


def test_list_is_paginated(client, make_product, settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"  # links start there (DESIGN.md §6), not at the Host
    for _ in range(5):
        make_product()
    body = client.get(LIST + "?page_size=2&page=3").json()
    assert body["count"] == 5 and len(body["results"]) == 1 and body["next"] is None
    assert "page=2" in body["previous"]
    body = client.get(LIST + "?page_size=2&page=2").json()
    assert body["previous"] == "https://shop.example.com/api/v1/products/?page_size=2"
    assert body["next"] == "https://shop.example.com/api/v1/products/?page=3&page_size=2"
    assert len(client.get(LIST + "?page_size=1000").json()["results"]) == 5  # capped at 100, not refused
    for page in ("9", "0", "abc"):
        assert_problem(client.get(LIST + f"?page={page}"), 404)


def test_a_page_number_past_any_list_is_a_400_problem_not_a_crash(client, make_product):
    make_product()
    body = assert_problem(client.get(LIST + "?page=1000000000000000000"), 400)
    assert "page" in body["errors"]
    assert assert_problem(client.get("/api/v1/categories/?page=1000000000000000000"), 400)["errors"]["page"]


def test_links_and_cached_pages_never_carry_the_request_host(client, make_product, settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example.com"]  # a second name the shop answers to
    for _ in range(3):
        make_product()
    seen = client.get(LIST + "?page_size=1", HTTP_HOST="other.example.com").json()  # renders and keeps the page
    again = client.get(LIST + "?page_size=1").json()
    assert seen["next"] == again["next"] == "https://shop.example.com/api/v1/products/?page=2&page_size=1"


def test_a_host_the_shop_does_not_serve_is_a_421_problem(client):
    response = client.get(LIST, HTTP_HOST="evil.example")
    assert_problem(response, 421)
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8002").status_code == 200  # probes come by address


def test_list_filters_by_search_category_price_and_stock(client, make_product, category):
    Category.objects.create(slug="tea", name="Tea")
    a = make_product(name="Kenya AA", price="10.00", stock=0, category="coffee")
    b = make_product(name="Sencha", price="5.00", stock=3, category="tea", description="grassy KENYA-like note")
    c = make_product(sku="KEN-42", name="Mug", price="20.00", stock=1)

    def ids(query):
        response = client.get(LIST + query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["results"]]

    assert set(ids("?search=kenya")) == {str(a.id), str(b.id)}
    assert ids("?search=ken-4") == [str(c.id)]
    assert ids("?category=tea") == [str(b.id)]
    assert ids("?category=nonesuch") == []
    assert set(ids("?min_price=5&max_price=10.00")) == {str(a.id), str(b.id)}
    assert ids("?in_stock=true&ordering=price") == [str(b.id), str(c.id)]
    assert ids("?in_stock=false") == [str(a.id)]
    assert ids("?ordering=-price") == [str(c.id), str(a.id), str(b.id)]
    assert ids("?ordering=name") == [str(a.id), str(c.id), str(b.id)]
    assert ids("?ordering=-created_at") == [str(c.id), str(b.id), str(a.id)]


@pytest.mark.parametrize("query, field", [
    ("?min_price=cheap", "min_price"),
    ("?max_price=-1", "max_price"),
    ("?min_price=NaN", "min_price"),
    ("?min_price=10&max_price=5", "min_price"),
    ("?in_stock=maybe", "in_stock"),
    ("?ordering=sku", "ordering"),
    ("?search=" + "x" * 101, "search"),
])
def test_list_refuses_bad_filters(client, query, field):
    assert_problem(client.get(LIST + query), 400, field)


def test_staff_may_list_inactive_products_and_nobody_else(client, make_product):
    make_product(active=True)
    make_product(active=False)
    assert client.get(LIST + "?include_inactive=1", **staff()).json()["count"] == 2
    assert client.get(LIST, **staff()).json()["count"] == 1
    assert client.get(LIST + "?include_inactive=1", **customer()).json()["count"] == 1
    assert client.get(LIST + "?include_inactive=1").json()["count"] == 1


def test_detail_hides_inactive_and_deleted_products_from_all_but_staff(client, make_product):
    from catalog import services

    inactive, deleted = make_product(active=False), make_product()
    services.product_delete(product_id=deleted.id)
    assert_problem(client.get(detail(inactive)), 404)
    assert_problem(client.get(detail(inactive), **customer()), 404)
    assert client.get(detail(inactive), **staff()).json()["active"] is False
    assert_problem(client.get(detail(deleted), **staff()), 404)
    assert_problem(client.get(f"{LIST}{uuid.uuid4()}/"), 404)


def test_categories_are_a_paginated_list_of_slug_and_name(client, category):
    from catalog.models import Category

    Category.objects.create(slug="tea", name="Tea")
    assert client.get("/api/v1/categories/").json() == {
        "count": 2, "next": None, "previous": None,
        "results": [{"slug": "coffee", "name": "Coffee"}, {"slug": "tea", "name": "Tea"}]}
    first = client.get("/api/v1/categories/?page_size=1").json()
    assert first["count"] == 2 and len(first["results"]) == 1 and first["next"]


def test_the_openapi_document_is_json(client):
    response = client.get("/api/v1/schema/product/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert "/api/v1/products/{product_id}/stock/adjustments/" in document["paths"]


# ----------------------------------------------------------------------------------------------- caching

def test_anonymous_reads_may_be_micro_cached_and_revalidated(client, make_product):
    product = make_product()
    for url in (LIST, detail(product)):
        first = client.get(url)
        assert first["Cache-Control"].startswith("public, max-age=1")
        assert "stale-if-error" in first["Cache-Control"]
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
        since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert since.status_code == 304


def test_a_stock_change_invalidates_list_and_detail_etags(client, make_product):
    from catalog import services

    product = make_product(stock=5)
    before = {url: client.get(url)["ETag"] for url in (LIST, detail(product))}
    services.stock_adjust(product_id=product.id, delta=1, reason="found one")
    for url, etag in before.items():
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag
    assert client.get(LIST).json()["results"][0]["available"] == 6
    assert client.get(detail(product)).json()["available"] == 6


def test_the_list_etag_moves_even_when_a_change_commits_with_an_older_timestamp(client, make_product):
    from catalog.models import Stock

    first, second = make_product(stock=5), make_product(stock=5)
    etag = client.get(LIST)["ETag"]
    # A transaction that read the clock before the newest change but committed after it: the newest timestamp
    # stays the same, the version must still move.
    older = Stock.objects.get(pk=first.pk).updated_at
    Stock.objects.filter(pk=second.pk).update(reserved=1, revision=1, updated_at=older)
    response = client.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert sorted(item["available"] for item in response.json()["results"]) == [4, 5]


def test_a_deleted_product_changes_the_list_etag(client, make_product):
    from catalog import services

    product = make_product()
    etag = client.get(LIST)["ETag"]
    services.product_delete(product_id=product.id)
    response = client.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response.json()["count"] == 0


def test_arguments_the_list_ignores_share_its_cached_page_and_etag(client, make_product,
                                                                  django_assert_num_queries):
    for _ in range(3):
        make_product()
    first = client.get(LIST + "?page_size=2&ordering=-price")
    # a cache buster, tracking arguments, another order: the page rendered for the first URL, by one query (the
    # catalog's version), with the same ETag and links that carry none of the ignored arguments
    for url in (LIST + "?_=12345&page_size=2&ordering=-price&utm_source=mail",
                LIST + "?ordering=-price&page_size=2", LIST + "?ordering=-price&page_size=2&unknown="):
        with django_assert_num_queries(1):
            again = client.get(url)
        assert again.content == first.content, url
        assert again["ETag"] == first["ETag"], url
    assert first.json()["next"].endswith("/api/v1/products/?ordering=-price&page=2&page_size=2")


def test_an_argument_the_list_reads_is_a_page_of_its_own(client, make_product, django_assert_num_queries):
    make_product(price="1.00")
    make_product(price="2.00")
    first = client.get(LIST + "?page_size=1")
    for url in (LIST + "?page_size=1&ordering=-price", LIST + "?page_size=1&page=2",
                LIST + "?page_size=1&max_price=1.50&min_price=1.50", LIST + "?page_size=1&search=Product"):
        with django_assert_num_queries(2):  # the version, then the page: rendered afresh
            again = client.get(url)
        assert again.status_code == 200 and again["ETag"] != first["ETag"], url


def test_a_repeated_argument_means_its_last_value_for_the_page_and_its_key(client, make_product):
    for _ in range(3):
        make_product()
    assert len(client.get(LIST + "?page_size=1").json()["results"]) == 1  # rendered and kept under page_size=1
    repeated = client.get(LIST + "?page_size=1&page_size=2")
    assert len(repeated.json()["results"]) == 2
    assert repeated["ETag"] == client.get(LIST + "?page_size=2")["ETag"]


def test_category_links_carry_no_argument_the_list_ignores(client, category, settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    Category.objects.create(slug="tea", name="Tea")
    body = client.get("/api/v1/categories/?utm_campaign=spring&page_size=1&_=99").json()
    assert body["next"] == "https://shop.example.com/api/v1/categories/?page=2&page_size=1"


def test_pages_say_their_length_so_they_need_no_chunking(client, make_product):
    product = make_product()
    for url in (LIST, detail(product)):
        response = client.get(url)
        assert int(response["Content-Length"]) == len(response.content) > 0


def test_signed_in_reads_are_private(client, make_product):
    product = make_product()
    assert client.get(detail(product), **customer())["Cache-Control"] == "private, no-cache"
    assert client.get(LIST + "?include_inactive=1", **staff())["Cache-Control"] == "private, no-store"


# ----------------------------------------------------------------------------------------------- writing

def valid_product(**overrides):
    return {"sku": "TEA-1", "name": "Sencha", "description": "Green", "price": "4.50", "currency": "eur",
            "category": "coffee", "image_url": "https://img.example.com/tea.png", **overrides}


def test_staff_create_a_product_and_product_created_is_emitted(client, category):
    response = post(client, LIST, valid_product(initial_stock=7), **staff())
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == PRODUCT_KEYS
    assert body["currency"] == "EUR" and body["available"] == 7 and body["version"] == 1
    assert response["Location"] == f"/api/v1/products/{body['id']}/"
    [event] = outbox_events(events.PRODUCT_CREATED)
    assert event["data"] == {"product_id": body["id"], "sku": "TEA-1", "name": "Sencha", "price": "4.50",
                             "currency": "EUR", "active": True, "version": 1}
    adjustment = StockAdjustment.objects.get()
    assert (adjustment.delta, adjustment.actor_email) == (7, "sam@example.com")


@pytest.mark.parametrize("overrides, field", [
    ({"price": "-1.00"}, "price"),
    ({"price": "1.999"}, "price"),
    ({"price": "abc"}, "price"),
    ({"price": "123456789.00"}, "price"),
    ({"currency": "EURO"}, "currency"),
    ({"currency": "E1R"}, "currency"),
    ({"sku": ""}, "sku"),
    ({"sku": "has space"}, "sku"),
    ({"name": ""}, "name"),
    ({"image_url": "not a url"}, "image_url"),
    ({"initial_stock": -1}, "initial_stock"),
    ({"colour": "green"}, "colour"),
])
def test_create_refuses_bad_input_and_changes_nothing(client, category, overrides, field):
    assert_problem(post(client, LIST, valid_product(**overrides), **staff()), 400, field)
    assert not Product.objects.exists() and not outbox_events()


def test_create_refuses_an_unknown_category(client, category):
    assert_problem(post(client, LIST, valid_product(category="nonesuch"), **staff()), 400, "category")
    assert not Product.objects.exists()


def test_create_refuses_a_duplicate_sku(client, category, make_product):
    make_product(sku="TEA-1")
    body = assert_problem(post(client, LIST, valid_product(), **staff()), 409, "sku")
    assert body["type"] == "urn:shop:problem:sku-taken"
    assert Product.objects.count() == 1


def test_create_refuses_a_body_that_is_no_object(client):
    assert_problem(post(client, LIST, ["sku"], **staff()), 400)
    response = client.post(LIST, "{not json", content_type="application/json", **staff())
    assert_problem(response, 400)


def test_staff_patch_bumps_the_version_and_emits_product_updated(client, make_product, category):
    product = make_product(price="5.00")
    response = patch(client, detail(product), {"price": "6.00", "category": "coffee", "id": "ignored"}, **staff())
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["price"], body["category"], body["version"]) == ("6.00", "coffee", 2)
    [event] = outbox_events(events.PRODUCT_UPDATED)
    assert event["data"]["version"] == 2 and event["data"]["price"] == "6.00"


def test_a_patch_that_changes_nothing_is_no_new_version(client, make_product):
    product = make_product(price="5.00")
    body = patch(client, detail(product), {"price": "5", "name": product.name}, **staff()).json()
    assert body["version"] == 1 and not outbox_events(events.PRODUCT_UPDATED)


def test_a_patch_based_on_a_stale_version_is_a_conflict(client, make_product):
    product = make_product()
    patch(client, detail(product), {"name": "New"}, **staff())
    body = assert_problem(patch(client, detail(product), {"name": "Newer", "version": 1}, **staff()), 409)
    assert body["version"] == 2
    assert Product.objects.get().name == "New"


def test_patch_refuses_bad_input(client, make_product):
    product = make_product(sku="A-1")
    make_product(sku="B-1")
    assert_problem(patch(client, detail(product), {"price": "-0.01"}, **staff()), 400, "price")
    assert_problem(patch(client, detail(product), {"category": "nonesuch"}, **staff()), 400, "category")
    assert_problem(patch(client, detail(product), {"sku": "B-1"}, **staff()), 409, "sku")
    assert_problem(patch(client, detail(product), {"version": 0}, **staff()), 400, "version")
    assert Product.objects.get(pk=product.pk).version == 1


def test_staff_delete_hides_the_product_and_emits_product_deleted(client, make_product):
    product = make_product()
    assert client.delete(detail(product), **staff()).status_code == 204
    assert client.get(LIST).json()["count"] == 0
    [event] = outbox_events(events.PRODUCT_DELETED)
    assert event["data"] == {"product_id": str(product.id), "version": 2}
    assert_problem(client.delete(detail(product), **staff()), 404)
    assert_problem(patch(client, detail(product), {"name": "x"}, **staff()), 404)


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("customer", 403)])
def test_only_staff_may_write(client, make_product, category, who, status):
    product = make_product(stock=5)
    headers = customer() if who == "customer" else {}
    assert_problem(post(client, LIST, valid_product(), **headers), status)
    assert_problem(patch(client, detail(product), {"name": "x"}, **headers), status)
    assert_problem(client.delete(detail(product), **headers), status)
    assert_problem(client.get(detail(product) + "stock/", **headers), status)
    assert_problem(post(client, detail(product) + "stock/adjustments/", {"delta": 1, "reason": "x"}, **headers),
                   status)
    assert Product.objects.get(pk=product.pk).version == 1 and StockAdjustment.objects.count() == 1


def test_a_forged_token_is_refused(client):
    response = client.get(LIST, HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_problem(response, 401)


# ------------------------------------------------------------------------------------------------- stock

def test_staff_see_stock_levels(client, make_product):
    product = make_product(stock=5)
    assert client.get(detail(product) + "stock/", **staff()).json() == {"on_hand": 5, "reserved": 0,
                                                                          "available": 5}
    assert_problem(client.get(f"{LIST}{uuid.uuid4()}/stock/", **staff()), 404)


def test_staff_adjust_stock_and_the_adjustment_is_audited(client, make_product):
    product = make_product(stock=5)
    response = post(client, detail(product) + "stock/adjustments/", {"delta": -2, "reason": "broken"}, **staff())
    assert response.status_code == 201, response.content
    assert response.json() == {"on_hand": 3, "reserved": 0, "available": 3}
    last = StockAdjustment.objects.filter(product=product).first()
    assert (last.delta, last.reason, last.on_hand_after, last.actor_email) == (-2, "broken", 3, "sam@example.com")


def test_an_adjustment_below_reserved_is_a_conflict(client, make_product):
    from catalog import services

    product = make_product(stock=5)
    services.reservation_create(order_id="o-1", items=[(str(product.id), 4)])
    response = post(client, detail(product) + "stock/adjustments/", {"delta": -2, "reason": "count"}, **staff())
    body = assert_problem(response, 409)
    assert (body["on_hand"], body["reserved"], body["available"]) == (5, 4, 1)
    assert client.get(detail(product) + "stock/", **staff()).json()["on_hand"] == 5


@pytest.mark.parametrize("body, field", [
    ({"delta": 0, "reason": "x"}, "delta"),
    ({"delta": "many", "reason": "x"}, "delta"),
    ({"delta": 1.5, "reason": "x"}, "delta"),
    ({"delta": 10_000_000, "reason": "x"}, "delta"),
    ({"delta": 1}, "reason"),
    ({"delta": 1, "reason": ""}, "reason"),
    ({"delta": 1, "reason": "x", "who": "me"}, "who"),
])
def test_adjustments_refuse_bad_input(client, make_product, body, field):
    product = make_product(stock=5)
    assert_problem(post(client, detail(product) + "stock/adjustments/", body, **staff()), 400, field)
    assert StockAdjustment.objects.count() == 1


def test_adjusting_a_deleted_product_is_not_found(client, make_product):
    from catalog import services

    product = make_product(stock=5)
    services.product_delete(product_id=product.id)
    assert_problem(post(client, detail(product) + "stock/adjustments/", {"delta": 1, "reason": "x"}, **staff()),
                   404)
