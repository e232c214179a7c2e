"""Operations through the gateway: the shop-wide status, parked messages replayed and discarded, order timelines.

The poison event is published straight to `shop.events` on the e2e shop's vhost, as a misbehaving producer would:
an `order.shipped` for an order product has never seen placed. Product refuses it (nothing reserved to ship) until
it is retried out and parked. "The cause fixed" means the missing earlier event arrives: the matching
`order.placed` (also published straight to the exchange), after which product holds the reservation and a replay
ships it, once. That `order.placed` names an order the order service never had, so the `stock.reserved` product
answers with is parked by the order service in turn: the message the test discards.
"""
import uuid

import publish_event
from client import wait_for

SERVICES = {"identity", "product", "order", "email"}
STATUS_FIELDS = {"service", "ready", "outbox_pending", "outbox_oldest_age_s", "queue_depth", "consumers", "parked"}
PARKED_FIELDS = {"id", "type", "subject", "correlation_id", "error", "attempts", "parked_at"}


def publish(shop, event_type: str, data: dict, *, subject: str) -> dict:
    return publish_event.publish(shop.env["RABBITMQ_URL"], event_type, data, subject=subject)


def parked(gateway, token, service: str) -> list[dict]:
    def answer():
        response = gateway.get(f"/api/v1/ops/{service}/parked/?page_size=100", token=token)
        # 503: the broker is away (other suites on a shared machine restart it); the console says so and so
        # do we, by asking again, for a while
        return None if response.status == 503 else response
    response = wait_for(answer, timeout=60, interval=1, what=f"{service}'s parked list (the broker to answer)")
    assert response.status == 200, response
    assert set(response.json) == {"count", "next", "previous", "results"}
    return response.json["results"]


def status_of(gateway, token) -> dict[str, dict]:
    response = gateway.get("/api/v1/ops/status/", token=token)
    assert response.status == 200, response
    return {entry["service"]: entry for entry in response.json}


def stock(gateway, token, product_id) -> dict:
    return gateway.get(f"/api/v1/products/{product_id}/stock/", token=token).json


def test_every_service_reports_its_pipeline_in_the_shop_wide_status(gateway, staff_token):
    statuses = status_of(gateway, staff_token)
    assert set(statuses) == SERVICES
    for name, entry in statuses.items():
        assert STATUS_FIELDS <= set(entry), entry
        assert entry["ready"] is True, entry
        assert entry["outbox_pending"] >= 0 and entry["outbox_oldest_age_s"] >= 0
    for consuming in ("product", "order", "email"):
        assert statuses[consuming]["consumers"] >= 1, statuses[consuming]
        assert statuses[consuming]["queue_depth"] >= 0 and statuses[consuming]["parked"] >= 0
    assert statuses["identity"]["queue_depth"] is None  # identity consumes no event: it has no queue


def test_a_parked_event_is_listed_replayed_once_its_cause_is_fixed_and_discarded(
        shop, gateway, staff_token, make_product):
    product = make_product(stock=5, name="Ops widget")
    order_id = str(uuid.uuid4())
    line = {"product_id": product["id"], "sku": product["sku"], "name": product["name"], "quantity": 2,
            "unit_price": product["price"], "line_total": f"{2 * float(product['price']):.2f}"}
    order = {"order_id": order_id, "customer_email": f"ops-{order_id[:8]}@example.com", "customer_name": "Ops",
             "items": [line], "total": line["line_total"], "currency": "EUR"}
    before = status_of(gateway, staff_token)["product"]["parked"]

    poison = publish(shop, "order.shipped", order, subject=order_id)

    def poison_parked():
        return next((m for m in parked(gateway, staff_token, "product") if m["id"] == poison["id"]), None)
    listed = wait_for(poison_parked, timeout=90, interval=1, what="product to park the order.shipped")
    assert PARKED_FIELDS <= set(listed)
    assert (listed["type"], listed["subject"], listed["correlation_id"]) == (
        "order.shipped", order_id, poison["correlationid"])
    assert "reservation" in listed["error"] and listed["attempts"] >= 1 and listed["parked_at"]
    assert status_of(gateway, staff_token)["product"]["parked"] >= before + 1
    assert stock(gateway, staff_token, product["id"]) == {"on_hand": 5, "reserved": 0, "available": 5}

    # the cause fixed: the order.placed the shipment depends on arrives, and product reserves for it
    publish(shop, "order.placed", {**order, "customer_id": "e2e-operator"}, subject=order_id)
    wait_for(lambda: stock(gateway, staff_token, product["id"])["reserved"] == 2, what="product to reserve")

    replayed = gateway.post(f"/api/v1/ops/product/parked/{poison['id']}/replay", token=staff_token)
    assert replayed.status == 202, replayed
    wait_for(lambda: stock(gateway, staff_token, product["id"]) == {"on_hand": 3, "reserved": 0, "available": 3},
             what="the replayed order.shipped to take the reserved units off stock on hand")
    assert poison_parked() is None
    again = gateway.post(f"/api/v1/ops/product/parked/{poison['id']}/replay", token=staff_token)
    assert again.status == 404, again  # no longer parked
    assert stock(gateway, staff_token, product["id"]) == {"on_hand": 3, "reserved": 0, "available": 3}  # once

    # product's stock.reserved names an order the order service never had: it parks it, and staff discard it
    def orphan_parked():
        return next((m for m in parked(gateway, staff_token, "order")
                     if m["type"] == "stock.reserved" and m["subject"] == order_id), None)
    orphan = wait_for(orphan_parked, timeout=90, interval=1, what="the order service to park the orphan")
    discarded = gateway.request("DELETE", f"/api/v1/ops/order/parked/{orphan['id']}/", token=staff_token)
    assert discarded.status == 204, discarded
    assert orphan_parked() is None
    gone = gateway.request("DELETE", f"/api/v1/ops/order/parked/{orphan['id']}/", token=staff_token)
    assert gone.status == 404, gone


def test_a_customer_is_refused_every_ops_route(gateway, customer):
    _, token = customer  # one customer for every route: sign-ins count against the gateway's login limit
    unknown = uuid.uuid4()
    for service in sorted(SERVICES):
        for method, path in (("GET", "/api/v1/ops/status/"), ("GET", f"/api/v1/ops/{service}/status/"),
                             ("GET", f"/api/v1/ops/{service}/parked/"),
                             ("POST", f"/api/v1/ops/{service}/parked/{unknown}/replay"),
                             ("DELETE", f"/api/v1/ops/{service}/parked/{unknown}/")):
            assert gateway.request(method, path, token=token).status == 403, (method, path)
            assert gateway.request(method, path).status == 401, (method, path)


def test_unknown_parked_ids_are_404_for_staff(gateway, staff_token):
    assert gateway.post(f"/api/v1/ops/email/parked/{uuid.uuid4()}/replay", token=staff_token).status == 404
    assert gateway.request("DELETE", f"/api/v1/ops/email/parked/{uuid.uuid4()}/", token=staff_token).status == 404


def test_the_timeline_of_a_confirmed_then_cancelled_order(gateway, customer, staff_token, make_product, place_order):
    email, token = customer
    product = make_product(stock=3)
    placed_by, cancelled_by = f"e2e-place-{uuid.uuid4().hex[:12]}", f"e2e-cancel-{uuid.uuid4().hex[:12]}"
    body = {"items": [{"product_id": product["id"], "quantity": 1}],
            "shipping_address": {"name": "T", "line1": "1 Line", "city": "C", "postal_code": "1", "country": "DE"}}
    place_order(token, [{"product_id": product["id"], "quantity": 1}])  # waits until the replica knows it
    placed = gateway.post("/api/v1/orders/", body, token=token, headers={"X-Request-ID": placed_by})
    assert placed.status == 201, placed
    order_id = placed.json["id"]

    def timeline(who=token):
        response = gateway.get(f"/api/v1/orders/{order_id}/timeline/", token=who)
        assert response.status == 200, response
        return response.json
    wait_for(lambda: any(e["kind"] == "email" for e in timeline()), timeout=60,
             what="the confirmation email on the timeline")
    cancelled = gateway.post(f"/api/v1/orders/{order_id}/cancel", token=token, headers={"X-Request-ID": cancelled_by})
    assert cancelled.status == 200, cancelled
    def complete():
        entries = timeline()
        return entries if len(entries) == 5 else None
    entries = wait_for(complete, timeout=60, what="the cancellation email on the timeline")

    assert [(e["kind"], e["title"]) for e in entries] == [
        ("status", "Order pending"), ("status", "Order confirmed"), ("email", "Email sent: order confirmed"),
        ("status", "Order cancelled"), ("email", "Email sent: order cancelled")]
    assert [e["correlation_id"] for e in entries] == [placed_by] * 3 + [cancelled_by] * 2
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert all(e["detail"] for e in entries) and email in entries[2]["detail"]
    assert timeline(staff_token) == entries
    _, stranger = gateway.register_and_log_in(name="Stranger")
    assert gateway.get(f"/api/v1/orders/{order_id}/timeline/", token=stranger).status == 404
