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
    _, token = customer
    product = make_product(stock=3)
    wait_for(lambda: place_order(token, [{"product_id": product["id"], "quantity": 1}]),
             what="the product to be orderable")  # so the replica surely knows it before the consumer stops
    shop.supervisorctl("stop", "product-consumer")
    try:
        order = place_order(token, [{"product_id": product["id"], "quantity": 1}])
        assert order_status(token, order["id"]) == "pending"
    finally:
        shop.supervisorctl("start", "product-consumer")
    wait_for(lambda: order_status(token, order["id"]) == "confirmed", what="the waiting order to be confirmed")
