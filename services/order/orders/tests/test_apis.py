"""The order routes over HTTP: who may do what, the JSON shapes, problem responses, Idempotency-Key."""
import uuid

import pytest

from shopkit import events
from shopkit.testing import auth_header, outbox_events

from orders import constants, selectors, services
from orders.models import Order
from orders.tests.builders import ADDRESS

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def ada():
    user_id = str(uuid.uuid4())
    return {"id": user_id, "headers": auth_header(role="customer", user_id=user_id, email="ada@example.com",
                                                  name="Ada Lovelace")}


@pytest.fixture
def bob():
    return auth_header(role="customer", email="bob@example.com", name="Bob")


@pytest.fixture
def staff():
    return auth_header(role="staff", email="staff@example.com", name="Staff")


@pytest.fixture
def pen(make_replica):
    return make_replica(name="Fountain pen", sku="PEN-1", price="12.50")


def body(product, quantity=2, **address):
    return {"items": [{"product_id": product.product_id, "quantity": quantity}],
            "shipping_address": {**ADDRESS, **address}}


def post(client, url, data=None, headers=None, **extra):
    return client.post(url, data if data is not None else {}, content_type="application/json",
                       **(headers or {}), **extra)


def place(client, ada, pen, **extra):
    response = post(client, ORDERS, body(pen), ada["headers"], **extra)
    assert response.status_code == 201, response.json()
    return response.json()


# --- placing ------------------------------------------------------------------------------------------------------

def test_a_customer_places_an_order(client, ada, pen):
    response = post(client, ORDERS, body(pen), ada["headers"])

    assert response.status_code == 201
    order = response.json()
    assert set(order) >= {"id", "status", "items", "total", "currency", "shipping_address", "customer_id",
                          "customer_email", "history", "created_at", "updated_at"}
    assert order["status"] == "pending" and order["total"] == "25.00" and order["currency"] == "EUR"
    assert order["items"] == [{"product_id": pen.product_id, "sku": "PEN-1", "name": "Fountain pen", "quantity": 2,
                               "unit_price": "12.50", "line_total": "25.00"}]
    assert order["customer_id"] == ada["id"] and order["customer_email"] == "ada@example.com"
    assert order["shipping_address"] == ADDRESS
    assert [h["status"] for h in order["history"]] == ["pending"]
    assert response["Location"] == f"/api/v1/orders/{order['id']}/"
    assert outbox_events(events.ORDER_PLACED)[0]["data"]["customer_name"] == "Ada Lovelace"


def test_staff_cannot_place_orders(client, staff, pen):
    response = post(client, ORDERS, body(pen), staff)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not Order.objects.exists()


def test_placing_needs_a_token(client, pen):
    assert post(client, ORDERS, body(pen)).status_code == 401


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b.update(items=[]), "items"),
    (lambda b: b["items"][0].update(quantity=0), "items"),
    (lambda b: b["items"][0].update(quantity=101), "items"),
    (lambda b: b["items"][0].update(quantity="2"), "items"),
    (lambda b: b["items"][0].update(quantity=1.5), "items"),
    (lambda b: b["items"][0].pop("product_id"), "items"),
    (lambda b: b.pop("items"), "items"),
    (lambda b: b.pop("shipping_address"), "shipping_address"),
    (lambda b: b["shipping_address"].pop("city"), "shipping_address"),
    (lambda b: b["shipping_address"].update(name="  "), "shipping_address"),
    (lambda b: b["shipping_address"].update(country="DEU"), "shipping_address"),
    (lambda b: b["shipping_address"].update(country="1A"), "shipping_address"),
])
def test_invalid_orders_are_400_problems_with_field_errors(client, ada, pen, change, field):
    data = body(pen)
    change(data)

    response = post(client, ORDERS, data, ada["headers"])

    assert response.status_code == 400
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert problem["status"] == 400 and field in problem["errors"]
    assert not Order.objects.exists() and not outbox_events()


def test_more_than_fifty_lines_are_refused(client, ada, make_replica):
    data = body(make_replica())
    data["items"] = [{"product_id": make_replica().product_id, "quantity": 1} for _ in range(51)]

    response = post(client, ORDERS, data, ada["headers"])

    assert response.status_code == 400 and "items" in response.json()["errors"]


@pytest.mark.parametrize("active", [False, None])
def test_an_unknown_or_inactive_product_is_a_problem_on_its_line(client, ada, pen, make_replica, active):
    other = make_replica(active=False).product_id if active is False else "no-such-product"
    data = body(pen)
    data["items"].append({"product_id": other, "quantity": 1})

    response = post(client, ORDERS, data, ada["headers"])

    assert response.status_code == 400
    errors = response.json()["errors"]["items"]
    assert errors[0] == {} and "product_id" in errors[1]
    assert not Order.objects.exists()


def test_a_product_id_in_upper_case_names_the_same_product(client, ada, make_replica):
    product = make_replica(product_id=str(uuid.uuid4()))
    data = {"items": [{"product_id": product.product_id.upper(), "quantity": 1}], "shipping_address": ADDRESS}

    response = post(client, ORDERS, data, ada["headers"])

    assert response.status_code == 201 and response.json()["items"][0]["product_id"] == product.product_id


def test_line2_may_be_left_out_and_the_country_is_upper_cased(client, ada, pen):
    data = body(pen, country="gb")
    del data["shipping_address"]["line2"]

    response = post(client, ORDERS, data, ada["headers"])

    assert response.status_code == 201
    assert response.json()["shipping_address"] == {**ADDRESS, "line2": "", "country": "GB"}


@pytest.mark.parametrize("key", [None, "key-1"])
def test_the_201_answer_is_what_a_get_of_the_order_shows(client, ada, make_replica, key):
    # A new order is answered from the rows its transaction wrote, a repeat from the database: both as GET reads.
    products = [make_replica(price=price) for price in ("12.50", "0.10", "3")]
    data = {"items": [{"product_id": p.product_id, "quantity": q} for p, q in zip(products, (3, 7, 1))]
            + [{"product_id": products[0].product_id, "quantity": 2}],
            "shipping_address": {**ADDRESS, "line2": None, "country": "gb"}}
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}

    answers = [post(client, ORDERS, data, ada["headers"], **extra) for _ in range(2 if key else 1)]

    shown = client.get(answers[0]["Location"], **ada["headers"]).json()
    assert [answer.json() for answer in answers] == [shown] * len(answers)
    assert shown["total"] == "66.20" and [item["quantity"] for item in shown["items"]] == [5, 7, 1]


@pytest.mark.parametrize("lines", [1, 10])
def test_placing_costs_the_same_few_statements_whatever_the_number_of_lines(client, ada, make_replica,
                                                                            django_assert_num_queries, lines):
    data = {"items": [{"product_id": make_replica().product_id, "quantity": 1} for _ in range(lines)],
            "shipping_address": ADDRESS}
    # The replica's products in one SELECT; then one transaction (a savepoint inside the test's own) with four
    # INSERTs: the order, every line, its first status, the outbox row. The answer reads nothing back.
    with django_assert_num_queries(7):
        response = post(client, ORDERS, data, ada["headers"])
    assert response.status_code == 201 and len(response.json()["items"]) == lines


# --- Idempotency-Key ----------------------------------------------------------------------------------------------

def test_the_same_key_and_body_return_the_same_order(client, ada, pen):
    first = post(client, ORDERS, body(pen), ada["headers"], HTTP_IDEMPOTENCY_KEY="key-1")
    # the same JSON object with its keys in another order is the same body
    reordered = {"shipping_address": dict(reversed(list(ADDRESS.items()))),
                 "items": [{"quantity": 2, "product_id": pen.product_id}]}
    again = post(client, ORDERS, reordered, ada["headers"], HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == 201 and again.status_code in (200, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and len(outbox_events(events.ORDER_PLACED)) == 1


def test_the_same_key_with_another_body_is_422(client, ada, pen):
    post(client, ORDERS, body(pen), ada["headers"], HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(client, ORDERS, body(pen, quantity=3), ada["headers"], HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 422
    assert response.json()["type"] == "urn:shop:problem:idempotency-key-reused"
    assert Order.objects.count() == 1


def test_without_a_key_every_request_places_an_order(client, ada, pen):
    place(client, ada, pen)
    place(client, ada, pen)

    assert Order.objects.count() == 2


def test_a_malformed_key_is_400(client, ada, pen):
    response = post(client, ORDERS, body(pen), ada["headers"], HTTP_IDEMPOTENCY_KEY="x" * 201)

    assert response.status_code == 400 and not Order.objects.exists()


# --- reading ------------------------------------------------------------------------------------------------------

def test_customers_list_their_own_orders_and_staff_list_all(client, ada, bob, staff, pen):
    mine = place(client, ada, pen)
    post(client, ORDERS, body(pen), bob)

    own = client.get(ORDERS, **ada["headers"]).json()
    everyone = client.get(ORDERS, **staff).json()

    assert set(own) == {"count", "next", "previous", "results"}
    assert own["count"] == 1 and own["results"][0]["id"] == mine["id"]
    assert everyone["count"] == 2


def test_the_list_filters_by_status(client, ada, pen):
    first = place(client, ada, pen)
    place(client, ada, pen)
    services.order_confirm_for_reservation(order_id=first["id"])

    confirmed = client.get(ORDERS, {"status": "confirmed"}, **ada["headers"]).json()
    pending = client.get(ORDERS, {"status": "pending"}, **ada["headers"]).json()

    assert [o["id"] for o in confirmed["results"]] == [first["id"]]
    assert pending["count"] == 1 and pending["results"][0]["id"] != first["id"]


def test_an_unknown_status_filter_is_400(client, ada):
    assert client.get(ORDERS, {"status": "lost"}, **ada["headers"]).status_code == 400


def test_the_list_pages(client, ada, pen):
    for _ in range(3):
        place(client, ada, pen)

    page = client.get(ORDERS, {"page_size": 2}, **ada["headers"]).json()

    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_listing_needs_a_token(client):
    assert client.get(ORDERS).status_code == 401


def test_the_owner_and_staff_see_an_order(client, ada, staff, pen):
    order = place(client, ada, pen)

    assert client.get(f"{ORDERS}{order['id']}/", **ada["headers"]).json()["id"] == order["id"]
    assert client.get(f"{ORDERS}{order['id']}/", **staff).status_code == 200


def test_another_customers_order_is_404(client, ada, bob, pen):
    order = place(client, ada, pen)

    response = client.get(f"{ORDERS}{order['id']}/", **bob)

    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_a_missing_order_is_404(client, staff):
    assert client.get(f"{ORDERS}{uuid.uuid4()}/", **staff).status_code == 404
    assert client.get(f"{ORDERS}not-an-id/", **staff).status_code == 404


# --- the compiled order shape and the input serializers kept per thread ------------------------------------------

class _Staff:
    id, is_staff = "staff", True


@pytest.fixture
def varied_orders(make_replica, customer):
    """Orders with one and several lines, prices at the edges of two places, several history entries each."""
    prices = ["0.01", "0.10", "3", "12.35", "99999.99", "19.99"]
    products = [make_replica(price=price) for price in prices]
    placed = [
        services.order_place(customer=customer, items=[{"product_id": p.product_id, "quantity": q}
                                                       for p, q in zip(products, quantities)],
                             shipping_address={**ADDRESS, **address})[0]
        for quantities, address in [((1,), {}), ((100, 7, 1, 3, 100, 2), {"line2": "Flat 2"}),
                                    ((3, 1), {"line2": None, "name": "Zoë Ünïcode"})]
    ]
    services.order_confirm_for_reservation(order_id=placed[1].id)
    services.order_cancel(order_id=placed[1].id, by_staff=False, reason="x" * 500)
    services.order_reject_for_reservation_failure(order_id=placed[2].id, shortages=[])
    return placed


def test_orders_render_exactly_as_the_order_serializer_does(varied_orders):
    from rest_framework.renderers import JSONRenderer

    from orders.apis import OrderOutput, order_json, orders_json

    for order in varied_orders:
        read = selectors.order_get(user=_Staff, order_id=order.id)
        assert order_json(read) == OrderOutput(read).data
        assert JSONRenderer().render(order_json(read)) == JSONRenderer().render(OrderOutput(read).data)
    listed = list(selectors.order_list(user=_Staff))
    assert orders_json(listed) == OrderOutput(listed, many=True).data
    rendered = {order["id"]: order for order in orders_json(listed)}
    several = rendered[str(varied_orders[1].id)]
    assert [item["line_total"] for item in several["items"]] == ["1.00", "0.70", "3.00", "37.05", "9999999.00",
                                                                 "39.98"]
    assert [entry["status"] for entry in several["history"]] == ["pending", "confirmed", "cancelled"]


def test_a_new_order_renders_from_the_rows_it_wrote_as_the_serializer_renders_it(varied_orders, customer,
                                                                              make_replica):
    from orders.apis import OrderOutput, order_json

    order, _ = services.order_place(customer=customer, items=[{"product_id": make_replica(price="0.05").product_id,
                                                               "quantity": 3}], shipping_address=ADDRESS)
    assert order_json(selectors.order_as_placed(order)) == OrderOutput(selectors.order_as_placed(order)).data


def test_an_input_serializer_forgets_each_requests_data_and_errors(pen):
    from rest_framework.exceptions import ValidationError

    from orders.apis import OrderPlaceInput, validated

    good = body(pen)
    bad = body(pen, city="")
    bad["items"][0]["quantity"] = 0
    first = validated(OrderPlaceInput, good)
    with pytest.raises(ValidationError) as refused:
        validated(OrderPlaceInput, bad)
    again = validated(OrderPlaceInput, body(pen, quantity=5))

    assert set(refused.value.detail) == {"items", "shipping_address"}
    assert first["items"][0]["quantity"] == 2 and again["items"][0]["quantity"] == 5
    assert first["shipping_address"]["city"] == "London"
    with pytest.raises(ValidationError) as refused:
        validated(OrderPlaceInput, {"items": good["items"]})
    assert set(refused.value.detail) == {"shipping_address"}  # nothing left of the earlier failure


def test_each_thread_validates_with_its_own_input_serializer(pen):
    import threading

    from orders import apis

    data = body(pen)
    seen = {}

    def validate(name):
        apis.validated(apis.OrderPlaceInput, data)
        seen[name] = apis._input_serializers.by_class[apis.OrderPlaceInput]

    threads = [threading.Thread(target=validate, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    validate("main")
    validate("main again")
    assert seen["a"] is not seen["b"] and seen["main"] not in (seen["a"], seen["b"])
    assert seen["main"] is seen["main again"]


# --- cancel, ship, deliver ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("slash", ["", "/"])
def test_the_owner_cancels_with_a_reason(client, ada, pen, slash):
    order = place(client, ada, pen)

    response = post(client, f"{ORDERS}{order['id']}/cancel{slash}", {"reason": "found it cheaper"}, ada["headers"])

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["history"][-1]["reason"] == "found it cheaper"
    assert outbox_events(events.ORDER_CANCELLED)[0]["data"]["reason"] == "found it cheaper"


def test_staff_cancel_without_a_body(client, ada, staff, pen):
    order = place(client, ada, pen)

    # no body and no Content-Type, as `curl -X POST` or fetch() without a body send it
    response = client.generic("POST", f"{ORDERS}{order['id']}/cancel", **staff)

    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_another_customer_cannot_cancel_and_learns_nothing(client, ada, bob, pen):
    order = place(client, ada, pen)

    response = post(client, f"{ORDERS}{order['id']}/cancel", {}, bob)

    assert response.status_code == 404
    assert Order.objects.get(pk=order["id"]).status == constants.PENDING


def test_cancelling_twice_is_409(client, ada, pen):
    order = place(client, ada, pen)
    post(client, f"{ORDERS}{order['id']}/cancel", {}, ada["headers"])

    response = post(client, f"{ORDERS}{order['id']}/cancel", {}, ada["headers"])

    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:shop:problem:illegal-transition" and problem["order_status"] == "cancelled"


@pytest.mark.parametrize("slash", ["", "/"])
def test_staff_ship_and_deliver_a_confirmed_order(client, ada, staff, pen, slash):
    order = place(client, ada, pen)
    services.order_confirm_for_reservation(order_id=order["id"])

    shipped = post(client, f"{ORDERS}{order['id']}/ship{slash}", None, staff)
    delivered = post(client, f"{ORDERS}{order['id']}/deliver{slash}", None, staff)

    assert (shipped.status_code, shipped.json()["status"]) == (200, "shipped")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "delivered")
    assert [h["status"] for h in delivered.json()["history"]] == ["pending", "confirmed", "shipped", "delivered"]


@pytest.mark.parametrize("action", ["ship", "deliver"])
def test_customers_cannot_ship_or_deliver_even_their_own_order(client, ada, pen, action):
    order = place(client, ada, pen)
    services.order_confirm_for_reservation(order_id=order["id"])

    response = post(client, f"{ORDERS}{order['id']}/{action}", {}, ada["headers"])

    assert response.status_code == 403
    assert Order.objects.get(pk=order["id"]).status == constants.CONFIRMED


@pytest.mark.parametrize("action", ["ship", "deliver"])
def test_shipping_or_delivering_a_pending_order_is_409(client, ada, staff, pen, action):
    order = place(client, ada, pen)

    response = post(client, f"{ORDERS}{order['id']}/{action}", {}, staff)

    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"
    assert Order.objects.get(pk=order["id"]).status == constants.PENDING


def test_cancelling_a_shipped_order_is_409(client, ada, staff, pen):
    order = place(client, ada, pen)
    services.order_confirm_for_reservation(order_id=order["id"])
    post(client, f"{ORDERS}{order['id']}/ship", {}, staff)

    response = post(client, f"{ORDERS}{order['id']}/cancel", {}, ada["headers"])

    assert response.status_code == 409
    assert Order.objects.get(pk=order["id"]).status == constants.SHIPPED


def test_shipping_an_unknown_order_is_404(client, staff):
    assert post(client, f"{ORDERS}{uuid.uuid4()}/ship", {}, staff).status_code == 404


# --- the service around the routes --------------------------------------------------------------------------------

def test_the_openapi_document_is_served_as_json(client):
    response = client.get("/api/v1/schema/order/")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/orders/" in document["paths"]
    assert "post" in document["paths"]["/api/v1/orders/"]
    assert "/api/v1/orders/{order_id}/cancel" in document["paths"]
    assert "/api/v1/orders/{order_id}/cancel/" not in document["paths"]  # served, but documented once


def test_health_checks_answer(client):
    assert client.get("/healthz").status_code == 200


def test_an_unknown_route_is_a_404_problem(client):
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
