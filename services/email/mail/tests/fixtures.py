"""Fixtures of the email tests: a real SMTP server (aiosmtpd) on a free port that records what it accepts."""
import socket
import threading

import pytest
from aiosmtpd.controller import Controller


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
