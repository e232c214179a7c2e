"""The message bytes: a plain message is written exactly as Django's SMTP backend would send it, anything else
is left to Django."""
import re
import uuid

import pytest
from django.core.mail.message import sanitize_address
from django.test import override_settings
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mail import constants
from mail.mime import build_email, plain_smtp_message
from mail.models import EmailMessage
from mail.rendering import order_context, render_email, welcome_context
from mail.tests.builders import ITEMS, order_event, user_registered_event
from shopkit import events


def ledger_row(*, subject="Your order 4D8E2A57 is confirmed", to="ada@example.com", text="Hello Ada,\n",
               html="<p>Hello Ada,</p>\n", kind=constants.KIND_ORDER_CONFIRMED) -> EmailMessage:
    return EmailMessage(id=uuid.uuid4(), cause_event_id="evt-1", kind=kind, to=to, subject=subject, body_text=text,
                        body_html=html)


def as_django_sends_it(message: EmailMessage, boundary: str) -> tuple[str, list[str], bytes]:
    """What Django's SMTP backend hands to smtplib for ``message``, with ``boundary`` instead of a random one."""
    email = build_email(message)
    mime = email.message()
    mime.set_boundary(boundary)
    return (sanitize_address(email.from_email, "utf-8"), [sanitize_address(to, "utf-8") for to in email.to],
            mime.as_bytes(linesep="\r\n"))


def without_date(data: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: (when)\r\n", data, count=1)


def assert_same_as_django(message: EmailMessage) -> None:
    plain = plain_smtp_message(message)
    assert plain is not None
    boundary = re.search(rb'boundary="([^"]+)"', plain.data).group(1).decode()
    sender, recipients, data = as_django_sends_it(message, boundary)
    assert (plain.sender, plain.recipients) == (sender, recipients)
    assert without_date(plain.data) == without_date(data)  # the Date header is the one thing the clock changes


ORDER_KINDS = {
    events.ORDER_CONFIRMED: constants.KIND_ORDER_CONFIRMED,
    events.ORDER_REJECTED: constants.KIND_ORDER_REJECTED,
    events.ORDER_CANCELLED: constants.KIND_ORDER_CANCELLED,
    events.ORDER_SHIPPED: constants.KIND_ORDER_SHIPPED,
    events.ORDER_DELIVERED: constants.KIND_ORDER_DELIVERED,
}


@pytest.mark.parametrize("event_type", sorted(ORDER_KINDS))
def test_every_order_message_is_plain_and_written_as_django_writes_it(event_type):
    kind = ORDER_KINDS[event_type]
    # names beyond ASCII in the body do not make a message less plain: the body goes 8bit, as Django sends it
    items = [{**ITEMS[0], "name": "Crème brûlée torch"}, ITEMS[1]]
    event = order_event(event_type, customer_name="Zoë Ørsted", items=items)
    rendered = render_email(kind, order_context(event.data))

    assert_same_as_django(ledger_row(subject=rendered.subject, text=rendered.text, html=rendered.html, kind=kind))


def test_a_welcome_message_is_written_as_django_writes_it():
    rendered = render_email(constants.KIND_WELCOME, welcome_context(user_registered_event().data))
    assert_same_as_django(ledger_row(subject=rendered.subject, text=rendered.text, html=rendered.html,
                                     kind=constants.KIND_WELCOME))


def test_line_breaks_of_any_kind_go_out_as_crlf():
    plain = plain_smtp_message(ledger_row(text="one\ntwo\r\nthree\rfour", html="<p>x</p>"))
    assert b"\r\n\r\none\r\ntwo\r\nthree\r\nfour\r\n--" in plain.data


@pytest.mark.parametrize("row", [
    ledger_row(subject="Votre commande est confirmée"),  # encoded words in the header: Django's job
    ledger_row(subject="Your order " + "X" * 80),  # folded over two lines
    ledger_row(subject="two  spaces"),
    ledger_row(to="zoë@example.com"),
    ledger_row(to="ada@exämple.com"),  # an international domain goes out in punycode
    ledger_row(to='"Ada Lovelace"@example.com'),
    ledger_row(text="a" * 999),  # longer than SMTP's line limit: Django sends it quoted-printable
    ledger_row(html="<p>\ud800</p>"),  # a lone surrogate cannot be encoded: Django raises the error
    ledger_row(text=""),  # Django leaves the text part out
], ids=["non-ascii-subject", "long-subject", "double-space", "non-ascii-local-part", "idn-domain",
        "quoted-local-part", "overlong-line", "surrogate", "no-text"])
def test_whatever_is_not_plain_is_left_to_django(row):
    assert plain_smtp_message(row) is None


@override_settings(DEFAULT_FROM_EMAIL="Café Boutique <orders@shop.example>")
def test_a_sender_name_beyond_ascii_is_left_to_django():
    assert plain_smtp_message(ledger_row()) is None


@override_settings(DEFAULT_CHARSET="iso-8859-1")
def test_another_charset_is_left_to_django():
    assert plain_smtp_message(ledger_row()) is None


ASCII_AND_BEYOND = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs", "Cc"))
# Often plain, so that the messages compared come up often; often not, to find where plain ends.
SUBJECT = (st.from_regex(r"[!-~]{1,12}(?: [!-~]{1,12}){0,6}", fullmatch=True)
           | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=90)
           | st.text(ASCII_AND_BEYOND, max_size=90))
LOCAL_PART = st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,20}", fullmatch=True)
DOMAIN = st.from_regex(r"[A-Za-z0-9.-]{1,30}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(subject=SUBJECT, to=st.one_of(st.emails(), st.builds("{}@{}".format, LOCAL_PART, DOMAIN)),
       text=st.text(ASCII_AND_BEYOND, max_size=300) | st.builds(lambda line: line * 1200, st.text(max_size=2)),
       html=st.text(ASCII_AND_BEYOND, max_size=300),
       from_email=st.sampled_from(["Shop <shop@localhost>", "orders@shop.example", "The (Best) Shop <a@b.example>",
                                   '"Shop, Inc." <orders@shop.example>', "Boutique Zoë <orders@shop.example>",
                                   "Shop <orders@bücher.example>"]))
def test_a_message_written_directly_is_the_message_django_sends(subject, to, text, html, from_email):
    with override_settings(DEFAULT_FROM_EMAIL=from_email):
        message = ledger_row(subject=subject, to=to, text=text, html=html)
        plain = plain_smtp_message(message) is not None
        event("plain" if plain else "left to Django")  # --hypothesis-show-statistics: how many were compared
        if plain:
            assert_same_as_django(message)
