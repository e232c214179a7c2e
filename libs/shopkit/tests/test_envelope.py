"""The CloudEvents envelope and the payload registry: what is accepted, and the clear errors for what is not."""
import json
import re

import pytest

from shopkit import events
from shopkit.envelope import build_event, parse_event
from shopkit.events import SCHEMAS, InvalidEvent

ORDER_ITEM = {"product_id": "p1", "sku": "SKU-1", "name": "Mug", "quantity": 2, "unit_price": "4.50",
              "line_total": "9.00"}
PLACED = {"order_id": "o1", "customer_id": "c1", "customer_email": "a@example.com", "customer_name": "A",
          "items": [ORDER_ITEM], "total": "9.00", "currency": "EUR"}


def test_every_event_type_of_the_design_has_a_versioned_schema():
    design_types = {
        "user.registered", "user.password_reset_requested", "product.created", "product.updated", "product.deleted", "order.placed",
        "stock.reserved", "stock.reservation_failed", "stock.released", "order.confirmed", "order.cancelled",
        "order.shipped", "order.delivered", "order.rejected", "email.sent", "email.failed",
    }
    assert set(SCHEMAS) == design_types
    for schema in SCHEMAS.values():
        assert schema.version >= 1
        assert schema.uri == f"urn:shop:event:{schema.type}:v{schema.version}"


RESET = {"user_id": "u1", "email": "a@example.com", "name": "A",
         "reset_url": "https://shop.example/reset-password#token=abc", "expires_at": "2026-01-01T10:00:00Z"}


def test_a_password_reset_request_needs_an_absolute_link_and_a_dated_expiry():
    assert events.validate_payload(events.USER_PASSWORD_RESET_REQUESTED, RESET) == RESET
    for broken in ({**RESET, "reset_url": "/reset-password#token=abc"}, {**RESET, "expires_at": "soon"},
                   {**RESET, "expires_at": "2026-01-01T10:00:00"}, {k: v for k, v in RESET.items() if k != "email"}):
        with pytest.raises(InvalidEvent, match="user.password_reset_requested"):
            events.validate_payload(events.USER_PASSWORD_RESET_REQUESTED, broken)


def test_built_event_round_trips_through_its_json_form():
    event = build_event(events.ORDER_PLACED, PLACED, source="/shop/order", subject="o1", correlation_id="req-1")
    parsed = parse_event(event.to_json())
    assert parsed == event
    raw = json.loads(event.to_json())
    assert raw["specversion"] == "1.0"
    assert raw["type"] == "order.placed" and raw["source"] == "/shop/order" and raw["subject"] == "o1"
    assert raw["datacontenttype"] == "application/json"
    assert raw["correlationid"] == "req-1"
    assert raw["dataschema"] == "urn:shop:event:order.placed:v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", raw["time"])


def test_decimals_travel_as_strings_with_two_places():
    from decimal import Decimal

    event = build_event(events.PRODUCT_UPDATED, {"product_id": "p", "sku": "S", "name": "N", "price": Decimal("3.5"),
                                                 "currency": "EUR", "active": True, "version": 2}, source="/shop/product")
    assert event.data["price"] == "3.50"


@pytest.mark.parametrize("data, complaint", [
    ({**PLACED, "total": "9.001"}, "total"),
    ({**PLACED, "currency": "euro"}, "currency"),
    ({**PLACED, "items": []}, "items"),
    ({k: v for k, v in PLACED.items() if k != "order_id"}, "order_id"),
    ({**PLACED, "items": [{**ORDER_ITEM, "quantity": 0}]}, "items.0.quantity"),
    (["not", "an", "object"], "JSON object"),
])
def test_payload_that_breaks_its_schema_is_refused_with_the_field_named(data, complaint):
    with pytest.raises(InvalidEvent, match=re.escape(complaint)):
        build_event(events.ORDER_PLACED, data, source="/shop/order")


def test_order_rejected_carries_the_order_lines_so_a_message_can_name_the_products():
    rejected = {"order_id": "o1", "customer_email": "a@example.com", "customer_name": "A",
                "reason": "insufficient stock", "shortages": [{"product_id": "p1", "requested": 2, "available": 1}]}
    with pytest.raises(InvalidEvent, match="items"):
        build_event(events.ORDER_REJECTED, rejected, source="/shop/order")
    event = build_event(events.ORDER_REJECTED, {**rejected, "items": [ORDER_ITEM]}, source="/shop/order")
    assert event.data["items"][0]["name"] == "Mug"


def test_unknown_event_type_is_refused():
    with pytest.raises(InvalidEvent, match="unknown event type"):
        build_event("order.teleported", {}, source="/shop/order")


@pytest.mark.parametrize("body, complaint", [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"specversion": "1.0"}', "lacks"),
    (json.dumps({"specversion": "0.3", "id": "1", "source": "/shop/x", "type": "stock.released",
                 "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json",
                 "data": {"order_id": "o"}}).encode(), "specversion"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "/shop/x", "type": "stock.released",
                 "time": "yesterday", "datacontenttype": "application/json",
                 "data": {"order_id": "o"}}).encode(), "RFC 3339"),
    (json.dumps({"specversion": "1.0", "id": "", "source": "/shop/x", "type": "stock.released",
                 "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json",
                 "data": {"order_id": "o"}}).encode(), "id"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "/shop/x", "type": "stock.released",
                 "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json",
                 "data": {"order": "o"}}).encode(), "order_id"),
])
def test_malformed_envelope_is_an_invalid_event_not_a_crash(body, complaint):
    with pytest.raises(InvalidEvent, match=re.escape(complaint)):
        parse_event(body)


def test_extra_payload_fields_are_tolerated_for_forward_compatibility():
    event = build_event(events.STOCK_RELEASED, {"order_id": "o1", "note": "new field"}, source="/shop/product")
    assert parse_event(event.to_json()).data["note"] == "new field"


def test_an_envelope_nested_too_deeply_is_an_invalid_event_not_a_crash():
    body = b'{"specversion":"1.0","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        parse_event(body)


def test_every_event_type_has_one_owning_service_as_design_md_lists_them():
    owners = {event_type: events.owner_source(event_type) for event_type in SCHEMAS}
    assert owners[events.USER_REGISTERED] == "/shop/identity"
    assert owners[events.PRODUCT_DELETED] == owners[events.STOCK_RESERVATION_FAILED] == "/shop/product"
    assert owners[events.ORDER_DELIVERED] == "/shop/order"
    assert owners[events.EMAIL_FAILED] == "/shop/email"
    assert set(owners.values()) == {"/shop/identity", "/shop/product", "/shop/order", "/shop/email"}
