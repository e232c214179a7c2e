"""DESIGN.md §4's invariants after customers race for scarce stock, through the gateway only."""
from concurrent.futures import ThreadPoolExecutor

from client import wait_for
from conftest import ADDRESS

CUSTOMERS = 8
STOCK = 4
SETTLED = {"confirmed", "rejected"}


def test_racing_orders_for_scarce_stock_keep_every_invariant(shop, gateway, staff_token, make_product):
    product = make_product(stock=STOCK, name="Scarce widget")
    pid = product["id"]
    # each customer from an address of its own, as on the internet: own rate-limit buckets
    clients = [shop.gateway(source_address=f"127.0.9.{i + 1}") for i in range(CUSTOMERS)]
    tokens = [client.register_and_log_in(name=f"Racer {i}")[1] for i, client in enumerate(clients)]
    body = {"items": [{"product_id": pid, "quantity": 1}], "shipping_address": ADDRESS}

    def place(i):
        def attempt():
            response = clients[i].post("/api/v1/orders/", body, token=tokens[i])
            assert response.status in (201, 400), response  # 400 only while the replica learns the product
            return response.json if response.status == 201 else None
        return wait_for(attempt, timeout=30, interval=0.3, what="the order to be accepted")

    with ThreadPoolExecutor(max_workers=CUSTOMERS) as pool:
        orders = list(pool.map(place, range(CUSTOMERS)))

    def statuses():
        found = [gateway.get(f"/api/v1/orders/{o['id']}/", token=staff_token).json["status"] for o in orders]
        return found if set(found) <= SETTLED else None
    final = wait_for(statuses, timeout=60, what="every order to settle")
    assert final.count("confirmed") == STOCK and final.count("rejected") == CUSTOMERS - STOCK

    def stock():
        return gateway.get(f"/api/v1/products/{pid}/stock/", token=staff_token).json
    assert stock() == {"on_hand": STOCK, "reserved": STOCK, "available": 0}

    confirmed = [o for o, s in zip(orders, final) if s == "confirmed"]
    cancelled, shipped = confirmed[0], confirmed[1]
    assert gateway.post(f"/api/v1/orders/{cancelled['id']}/cancel", token=staff_token).status == 200
    assert gateway.post(f"/api/v1/orders/{shipped['id']}/ship", token=staff_token).status == 200
    # on_hand = initial − shipped; reserved = confirmed and neither shipped nor cancelled
    wait_for(lambda: stock() == {"on_hand": STOCK - 1, "reserved": STOCK - 2, "available": 1}, timeout=30,
             what="the release and the shipment to reach stock")

    expected = {o["id"]: {"order_confirmed"} if s == "confirmed" else {"order_rejected"}
                for o, s in zip(orders, final)}
    expected[cancelled["id"]].add("order_cancelled")
    expected[shipped["id"]].add("order_shipped")

    def emails_match():
        for order_id, kinds in expected.items():
            listed = gateway.get(f"/api/v1/emails/?order_id={order_id}", token=staff_token).json["results"]
            found = [e["kind"] for e in listed]
            if sorted(found) != sorted(kinds):  # exactly one email per (order, event): no more, no fewer
                return False
        return True
    wait_for(emails_match, timeout=60, what="exactly one email per order and event")
