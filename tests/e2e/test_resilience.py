"""The shop keeps working while a piece of it is down, and catches up once the piece is back."""
from client import wait_for


def test_the_catalog_is_served_while_the_product_service_is_stopped_and_orders_placed_meanwhile_are_confirmed(
        shop, gateway, customer, make_product, place_order, order_status):
    _, token = customer
    product = make_product(stock=3)
    catalog = "/api/v1/products/?ordering=name&page_size=20"
    before = wait_for(lambda: (r := gateway.get(catalog)).status == 200 and r, what="the catalog")

    shop.supervisorctl("stop", "product-web:*")
    try:
        # only the web processes stop: the product consumer keeps reserving stock from events
        assert "RUNNING" not in shop.supervisorctl("status", "product-web:*")
        direct = gateway.get(catalog, token=token)  # a signed-in read bypasses the cache
        assert direct.status == 502 and direct.content_type == "application/problem+json", direct

        cached = gateway.get(catalog)
        assert cached.status == 200, cached
        assert cached.header("X-Cache-Status") in ("STALE", "HIT", "UPDATING")
        assert cached.json == before.json

        # orders are checked against the order service's own replica of the catalog
        order = place_order(token, [{"product_id": product["id"], "quantity": 1}])
    finally:
        shop.supervisorctl("start", "product-web:*")
    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the order to be confirmed")
    wait_for(lambda: gateway.get(catalog, token=token).status == 200, what="the product service to answer again")


def test_orders_placed_while_the_product_consumer_is_stopped_are_confirmed_once_it_is_back(
        shop, customer, make_product, place_order, order_status):
    # `make up` runs product's consumer and relay in one process, product-worker: it stops both
    _, token = customer
    product = make_product(stock=3)
    wait_for(lambda: place_order(token, [{"product_id": product["id"], "quantity": 1}]),
             what="the product to be orderable")  # so the replica surely knows it before the consumer stops
    shop.supervisorctl("stop", "product-worker")
    try:
        order = place_order(token, [{"product_id": product["id"], "quantity": 1}])
        assert order_status(token, order["id"]) == "pending"
    finally:
        shop.supervisorctl("start", "product-worker")
    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the waiting order to be confirmed")


def test_a_cancel_that_overtakes_the_reservation_leaves_nothing_reserved(shop, gateway, staff_token, customer,
                                                                         make_product, place_order, order_status):
    # The order service hears of the reservation only after the customer cancelled: product reserved, then
    # released on order.cancelled, and the late stock.reserved must not revive the order. `make up` runs order's
    # consumer and relay in one process, order-worker: while it is stopped the order and its cancel wait in the
    # outbox; once it is back product gets order.placed then order.cancelled (in order), and order hears of the
    # reservation after its own cancel.
    _, token = customer
    overtaken, marker = make_product(stock=3), make_product(stock=3)
    for product in (overtaken, marker):  # both orderable (and settled) before the order worker stops
        first = place_order(token, [{"product_id": product["id"], "quantity": 1}])
        wait_for(lambda o=first: order_status(token, o["id"]) == "confirmed", what="a first order confirmed")

    def reserved(product):
        return gateway.get(f"/api/v1/products/{product['id']}/stock/", token=staff_token).json["reserved"]

    confirmed_before = {p["id"]: reserved(p) for p in (overtaken, marker)}
    shop.supervisorctl("stop", "order-worker")
    try:
        order = place_order(token, [{"product_id": overtaken["id"], "quantity": 2}])
        cancel = gateway.post(f"/api/v1/orders/{order['id']}/cancel", {}, token=token)
        assert cancel.status == 200, cancel
        later = place_order(token, [{"product_id": marker["id"], "quantity": 1}])
    finally:
        shop.supervisorctl("start", "order-worker")
    # product handles one service's events in the order they were published: once the later order's reservation
    # shows, the cancelled one's placed and cancelled were handled before it
    wait_for(lambda: reserved(marker) == confirmed_before[marker["id"]] + 1, what="the later order reserved")
    wait_for(lambda: order_status(token, later["id"]) == "confirmed", what="the later order to be confirmed")
    assert order_status(token, order["id"]) == "cancelled"
    assert reserved(overtaken) == confirmed_before[overtaken["id"]]


KILLED = ("product-worker", "order-worker")  # `make up` runs each service's consumer and relay in one process


def test_processes_killed_mid_saga_lose_nothing_and_do_nothing_twice(shop, gateway, staff_token, customer,
                                                                      make_product, place_order):
    _, token = customer
    product = make_product(stock=50)
    pid = product["id"]
    orders = [place_order(token, [{"product_id": pid, "quantity": 1}])]  # the replica knows the product now
    for i in range(14):
        if i == 5:
            # no clean stop: the consumers and the relay die wherever they are (between publish and mark-sent,
            # between handling and ack …); supervisor restarts them
            for name in KILLED:
                assert "signalled" in shop.supervisorctl("signal", "KILL", name), name
        orders.append(place_order(token, [{"product_id": pid, "quantity": 1}]))

    def all_confirmed():
        return all(gateway.get(f"/api/v1/orders/{o['id']}/", token=token).json["status"] == "confirmed"
                   for o in orders)
    wait_for(all_confirmed, timeout=90, what="every order to be confirmed after the kills")
    stock = gateway.get(f"/api/v1/products/{pid}/stock/", token=staff_token).json
    assert stock == {"on_hand": 50, "reserved": 15, "available": 35}  # each order reserved exactly once

    def one_email_each():
        for order in orders:
            listed = gateway.get(f"/api/v1/emails/?order_id={order['id']}", token=staff_token).json["results"]
            if [e["kind"] for e in listed] != ["order_confirmed"]:
                return False
        return True
    wait_for(one_email_each, timeout=60, what="exactly one confirmation email per order")
    for name in KILLED:  # restarted by the supervisor, not given up on (a loaded machine may still be starting it)
        wait_for(lambda: "RUNNING" in shop.supervisorctl("status", name), timeout=60,
                 what=f"{name} to be running again")
