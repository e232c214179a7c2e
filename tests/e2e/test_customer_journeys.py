"""A customer's way through the shop, through the gateway only: account, catalog, orders and their emails."""
import uuid

from client import wait_for


def test_a_visitor_registers_logs_in_and_sees_their_account(gateway):
    email, token = gateway.register_and_log_in(name="Ada Visitor")
    me = gateway.get("/api/v1/auth/me", token=token)
    assert me.status == 200, me
    assert (me.json["email"], me.json["name"], me.json["role"]) == (email, "Ada Visitor", "customer")
    anonymous = gateway.get("/api/v1/auth/me")
    assert anonymous.status == 401 and "problem+json" in anonymous.content_type


def test_a_taken_email_cannot_register_twice(gateway, customer):
    email, _ = customer
    again = gateway.post("/api/v1/auth/register", {"email": email, "password": "Another-passw0rd!", "name": "X"})
    assert again.status == 409, again


def test_the_catalog_can_be_browsed_searched_and_filtered(gateway):
    page = gateway.get("/api/v1/products/?page_size=100").json
    assert page["count"] > 0 and {"count", "next", "previous", "results"} <= set(page)
    categories = gateway.get("/api/v1/categories/").json
    # DESIGN.md §5: every list is paginated, categories too
    assert set(categories) == {"count", "next", "previous", "results"}, categories
    assert categories["count"] == len(categories["results"]) > 0
    slug = categories["results"][0]["slug"]

    in_category = gateway.get(f"/api/v1/products/?category={slug}&page_size=100").json["results"]
    assert in_category and all(p["category"] == slug for p in in_category)

    term = page["results"][0]["name"].split()[0]
    found = gateway.get(f"/api/v1/products/?search={term}&page_size=100").json["results"]
    assert found and all(term.lower() in (p["name"] + p["description"]).lower() for p in found)

    cheap = gateway.get("/api/v1/products/?max_price=10&ordering=price&page_size=100").json["results"]
    prices = [float(p["price"]) for p in cheap]
    assert prices and max(prices) <= 10 and prices == sorted(prices)

    detail = gateway.get(f"/api/v1/products/{page['results'][0]['id']}/")
    assert detail.status == 200 and detail.json["id"] == page["results"][0]["id"]


def test_an_order_is_confirmed_and_its_email_reaches_the_ledger_and_the_smtp_sink(
        shop, gateway, customer, staff_token, make_product, place_order, order_status):
    email, token = customer
    product = make_product(stock=5, price="7.25")
    order = place_order(token, [{"product_id": product["id"], "quantity": 2}])
    assert order["status"] == "pending" and order["total"] == "14.50"

    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the order to be confirmed")
    stock = gateway.get(f"/api/v1/products/{product['id']}/stock/", token=staff_token).json
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 2, 3)

    def confirmation_sent():
        listed = gateway.get(f"/api/v1/emails/?order_id={order['id']}&kind=order_confirmed", token=staff_token)
        assert listed.status == 200, listed
        sent = [m for m in listed.json["results"] if m["status"] == "sent"]
        return sent
    [message] = wait_for(confirmation_sent, what="the confirmation email to be sent")
    assert message["to"] == email
    delivered = wait_for(lambda: [m for m in shop.mail_for(email) if message["subject"] in m],
                         what="the confirmation email in the SMTP sink's Maildir")
    assert len(delivered) == 1


def test_an_order_for_more_than_the_stock_is_rejected(gateway, customer, staff_token, make_product, place_order,
                                                      order_status):
    _, token = customer
    name = f"Scarce teapot {uuid.uuid4().hex[:6]}"
    product = make_product(stock=1, name=name)
    order = place_order(token, [{"product_id": product["id"], "quantity": 3}])
    wait_for(lambda: order_status(token, order["id"]) == "rejected", what="the order to be rejected")
    stock = gateway.get(f"/api/v1/products/{product['id']}/stock/", token=staff_token).json
    assert (stock["on_hand"], stock["reserved"]) == (1, 0)

    # the rejection email names the product that was short, not its id (order.rejected carries the items)
    def rejection_queued():
        listed = gateway.get(f"/api/v1/emails/?order_id={order['id']}&kind=order_rejected", token=staff_token)
        assert listed.status == 200, listed
        return listed.json["results"]
    [message] = wait_for(rejection_queued, what="the rejection email in the ledger")
    body = gateway.get(f"/api/v1/emails/{message['id']}/", token=staff_token).json["body"]
    assert f"{name}: you asked for 3, but only 1 is left" in body
    assert product["id"] not in body


def test_cancelling_an_order_releases_its_stock(gateway, customer, staff_token, make_product, place_order,
                                                order_status):
    _, token = customer
    product = make_product(stock=4)
    order = place_order(token, [{"product_id": product["id"], "quantity": 3}])
    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the order to be confirmed")
    assert gateway.get(f"/api/v1/products/{product['id']}/stock/", token=staff_token).json["available"] == 1

    cancelled = gateway.post(f"/api/v1/orders/{order['id']}/cancel", token=token)
    assert cancelled.status == 200, cancelled
    wait_for(lambda: gateway.get(f"/api/v1/products/{product['id']}/stock/", token=staff_token).json["available"] == 4,
             what="the reservation to be released")
    assert gateway.post(f"/api/v1/orders/{order['id']}/cancel", token=token).status == 409


def test_staff_ship_and_deliver_an_order(gateway, customer, staff_token, make_product, place_order, order_status):
    _, token = customer
    product = make_product(stock=6)
    order = place_order(token, [{"product_id": product["id"], "quantity": 2}])
    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the order to be confirmed")

    assert gateway.post(f"/api/v1/orders/{order['id']}/ship", token=token).status in (403, 404)  # customers can't
    shipped = gateway.post(f"/api/v1/orders/{order['id']}/ship", token=staff_token)
    assert shipped.status == 200 and shipped.json["status"] == "shipped", shipped
    assert gateway.post(f"/api/v1/orders/{order['id']}/cancel", token=token).status == 409
    # shipping turns the reservation into a deduction from stock on hand
    def levels():
        stock = gateway.get(f"/api/v1/products/{product['id']}/stock/", token=staff_token).json
        return stock["on_hand"], stock["reserved"], stock["available"]
    wait_for(lambda: levels() == (4, 0, 4), what="shipped stock to leave on_hand")
    delivered = gateway.post(f"/api/v1/orders/{order['id']}/deliver", token=staff_token)
    assert delivered.status == 200 and delivered.json["status"] == "delivered", delivered
    history = [h["status"] for h in gateway.get(f"/api/v1/orders/{order['id']}/", token=token).json["history"]]
    assert history == ["pending", "confirmed", "shipped", "delivered"]
