"""Test fixtures: a real SMTP server (aiosmtpd) on a free port that records what it accepts, and events."""
import socket
import threading
import uuid

import pytest
from aiosmtpd.controller import Controller

from shopkit import events
from shopkit.envelope import build_event


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Accepts mail, except for the recipients it is told to refuse (address → SMTP reply)."""

    def __init__(self):
        self.received = []  # (envelope recipients, parsed message)
        self.refuse = {}
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server on a fixed port that a test can stop and start again (an outage), keeping its records."""

    def __init__(self, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self._controller = None

    def start(self):
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self):
        return self.handler.received

    def received_by(self, address: str) -> list:
        return [message for rcpts, message in self.received if address in rcpts]


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; EMAIL_HOST/EMAIL_PORT point at it."""
    server = SmtpServer().start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    yield server
    server.stop()


@pytest.fixture
def fast_retries(settings):
    """Back-off in tens of milliseconds, so tests can watch retries happen."""
    settings.SHOP_EMAIL = {**getattr(settings, "SHOP_EMAIL", {}), "RETRY_BASE_SECONDS": 0.01,
                           "RETRY_MAX_SECONDS": 0.05, "MAX_ATTEMPTS": 3, "POLL_SECONDS": 0.02,
                           "SERVER_RETRY_MAX_SECONDS": 0.1}
    return settings.SHOP_EMAIL


ITEMS = [
    {"product_id": "p-mug", "sku": "MUG-1", "name": "Blue Mug", "quantity": 2, "unit_price": "7.50",
     "line_total": "15.00"},
    {"product_id": "p-tea", "sku": "TEA-9", "name": "Earl Grey Tea", "quantity": 1, "unit_price": "4.25",
     "line_total": "4.25"},
]


def order_event(event_type: str, **overrides):
    """An `order.*` event as the order service emits it (DESIGN.md §3), with ``overrides`` in its data."""
    order_id = overrides.pop("order_id", str(uuid.uuid4()))
    data = {"order_id": order_id, "customer_email": "ada@example.com", "customer_name": "Ada Lovelace"}
    if event_type == events.ORDER_REJECTED:
        data.update(reason="insufficient stock", items=ITEMS,
                    shortages=[{"product_id": "p-mug", "requested": 2, "available": 1},
                               {"product_id": "p-tea", "requested": 1, "available": 0}])
    else:
        data.update(items=ITEMS, total="19.25", currency="EUR")
    data.update(overrides)
    return build_event(event_type, data, source="/shop/order", subject=order_id,
                       correlation_id=str(uuid.uuid4()))


def user_registered_event(**overrides):
    user_id = str(uuid.uuid4())
    data = {"user_id": user_id, "email": "grace@example.com", "name": "Grace Hopper", **overrides}
    return build_event(events.USER_REGISTERED, data, source="/shop/identity", subject=user_id,
                       correlation_id=str(uuid.uuid4()))


def password_reset_event(**overrides):
    user_id = str(uuid.uuid4())
    data = {"user_id": user_id, "email": "grace@example.com", "name": "Grace Hopper",
            "reset_url": "https://shop.example.com/reset-password#token=tok-123_abc",
            "expires_at": "2026-11-30T06:15:00Z", **overrides}
    return build_event(events.USER_PASSWORD_RESET_REQUESTED, data, source="/shop/identity", subject=user_id,
                       correlation_id=str(uuid.uuid4()))
