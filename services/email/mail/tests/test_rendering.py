"""The templates: every kind renders the customer's name, the order's lines and total, and the order link."""
import pytest

from mail import constants
from mail.rendering import order_context, password_reset_context, render_email, welcome_context
from mail.tests.builders import order_event, password_reset_event, user_registered_event
from shopkit import events

ORDER_KINDS = {
    events.ORDER_CONFIRMED: (constants.KIND_ORDER_CONFIRMED, "is confirmed"),
    events.ORDER_CANCELLED: (constants.KIND_ORDER_CANCELLED, "is cancelled"),
    events.ORDER_SHIPPED: (constants.KIND_ORDER_SHIPPED, "is on its way"),
    events.ORDER_DELIVERED: (constants.KIND_ORDER_DELIVERED, "has been delivered"),
}


@pytest.mark.parametrize("event_type", sorted(ORDER_KINDS))
def test_order_messages_show_name_lines_total_and_link(event_type, settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    event = order_event(event_type, order_id="0b7c3f1e-5d2a-4c1b-9e8f-123456789abc")
    kind, phrase = ORDER_KINDS[event_type]

    rendered = render_email(kind, order_context(event.data))

    assert rendered.subject == f"Your order 0B7C3F1E {phrase}"
    for body in (rendered.text, rendered.html):
        assert "Hello Ada Lovelace," in body
        assert "Blue Mug" in body and "Earl Grey Tea" in body
        assert "https://shop.example.com/orders/0b7c3f1e-5d2a-4c1b-9e8f-123456789abc" in body
    assert "  2 x Blue Mug at 7.50 EUR = 15.00 EUR\n" in rendered.text
    assert "  1 x Earl Grey Tea at 4.25 EUR = 4.25 EUR\n" in rendered.text
    assert "  Total: 19.25 EUR\n" in rendered.text
    assert ("<tr><td>Blue Mug</td><td align=\"right\">2</td><td align=\"right\">7.50 EUR</td>"
            "<td align=\"right\">15.00 EUR</td></tr>") in rendered.html
    assert "<th align=\"right\">19.25 EUR</th>" in rendered.html


def test_cancelled_message_gives_the_reason():
    event = order_event(events.ORDER_CANCELLED, reason="changed my mind")
    rendered = render_email(constants.KIND_ORDER_CANCELLED, order_context(event.data))
    assert "Reason: changed my mind" in rendered.text
    assert "<p>Reason: changed my mind</p>" in rendered.html


def test_rejected_message_names_the_shortages_in_words():
    items = [{"product_id": "p-mug", "sku": "MUG-1", "name": "Blue Mug", "quantity": 2, "unit_price": "7.50",
              "line_total": "15.00"},
             {"product_id": "p-lamp", "sku": "LAMP-1", "name": "Desk Lamp", "quantity": 3, "unit_price": "20.00",
              "line_total": "60.00"},
             {"product_id": "p-pen", "sku": "PEN-1", "name": "Pen", "quantity": 5, "unit_price": "1.00",
              "line_total": "5.00"}]
    shortages = [{"product_id": "p-mug", "requested": 2, "available": 1},
                 {"product_id": "p-lamp", "requested": 3, "available": 0},
                 {"product_id": "p-pen", "requested": 5, "available": 2}]
    event = order_event(events.ORDER_REJECTED, items=items, shortages=shortages)

    rendered = render_email(constants.KIND_ORDER_REJECTED, order_context(event.data))

    assert rendered.subject.startswith("We could not accept your order ")
    assert "  - Blue Mug: you asked for 2, but only 1 is left.\n" in rendered.text
    assert "  - Desk Lamp: you asked for 3, but none is left.\n" in rendered.text
    assert "  - Pen: you asked for 5, but only 2 are left.\n" in rendered.text
    assert "<li>Blue Mug: you asked for 2, but only 1 is left.</li>" in rendered.html
    assert "Hello Ada Lovelace," in rendered.text


def test_rejected_message_names_products_never_their_ids():
    event = order_event(events.ORDER_REJECTED)  # as the order service emits it: shortages and the order's lines
    rendered = render_email(constants.KIND_ORDER_REJECTED, order_context(event.data))
    assert "Blue Mug: you asked for 2, but only 1 is left." in rendered.text
    assert "Earl Grey Tea: you asked for 1, but none is left." in rendered.text
    assert "product p-" not in rendered.text and "product p-" not in rendered.html


def test_welcome_message_greets_the_new_user(settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com/"
    event = user_registered_event(name="Grace Hopper", email="grace@example.com")
    rendered = render_email(constants.KIND_WELCOME, welcome_context(event.data))
    assert rendered.subject == "Welcome to the Shop, Grace Hopper"
    assert "Hello Grace Hopper," in rendered.text
    assert "grace@example.com" in rendered.text and "https://shop.example.com" in rendered.text
    assert "<strong>grace@example.com</strong>" in rendered.html


def test_html_escapes_names_and_text_keeps_them_verbatim():
    event = order_event(events.ORDER_CONFIRMED, customer_name="<script>alert(1)</script> & Co",
                        items=[{"product_id": "p", "sku": "S", "name": "Fish & <Chips>", "quantity": 1,
                                "unit_price": "1.00", "line_total": "1.00"}], total="1.00")
    rendered = render_email(constants.KIND_ORDER_CONFIRMED, order_context(event.data))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in rendered.html
    assert "Fish &amp; &lt;Chips&gt;" in rendered.html
    assert "Hello <script>alert(1)</script> & Co," in rendered.text
    assert "1 x Fish & <Chips> at 1.00 EUR" in rendered.text


def test_subject_stays_on_one_line_whatever_the_name():
    event = user_registered_event(name="Eve\r\nBcc: victim@example.com")
    rendered = render_email(constants.KIND_WELCOME, welcome_context(event.data))
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject == "Welcome to the Shop, Eve Bcc: victim@example.com"


def test_the_reset_message_carries_the_link_its_expiry_and_what_to_do_if_it_was_not_you():
    event = password_reset_event(name="Grace Hopper", email="grace@example.com")

    rendered = render_email(constants.KIND_PASSWORD_RESET, password_reset_context(event.data))

    assert rendered.subject == "Reset your Shop password"
    assert "https://shop.example.com/reset-password#token=tok-123_abc\n" in rendered.text
    assert '<a href="https://shop.example.com/reset-password#token=tok-123_abc">' in rendered.html
    for body in (rendered.text, rendered.html):
        assert "Hello Grace Hopper," in body and "grace@example.com" in body
        assert "2026-11-30 06:15 UTC" in body and "ignore this message" in body


def test_a_reset_link_cannot_smuggle_markup_into_the_html():
    event = password_reset_event(reset_url='https://shop.example.com/reset-password#token="><script>x</script>')
    rendered = render_email(constants.KIND_PASSWORD_RESET, password_reset_context(event.data))
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
