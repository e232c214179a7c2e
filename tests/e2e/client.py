"""A small HTTP client for the e2e suite: the standard library only, JSON in and out, as a browser's fetch would."""
from __future__ import annotations

import http.client
import json
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

from shopkit.testing import wait_until


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def __repr__(self) -> str:  # shows up in assertion messages
        return f"<{self.status} {self.content_type} {self.body[:300]!r}>"


class Gateway:
    """Talks to the shop through its gateway only. ``source_address`` lets a test appear as another client
    (any 127.x.y.z address reaches a loopback listener), which keeps the rate-limit test's bucket to itself."""

    def __init__(self, base_url: str, *, cafile: str | None = None, source_address: str | None = None,
                 retry_when_limited: bool = True):
        parts = urlsplit(base_url)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.cafile, self.source_address = cafile, source_address
        self.retry_when_limited = retry_when_limited

    def _connection(self) -> http.client.HTTPConnection:
        source = (self.source_address, 0) if self.source_address else None
        if self.scheme == "https":
            context = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, timeout=30, context=context,
                                               source_address=source)
        return http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=source)

    def request(self, method: str, path: str, body=None, *, token: str | None = None, headers: dict | None = None,
                raw: bytes | None = None) -> Response:
        sent_headers = {"Accept": "application/json"}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent_headers["Content-Type"] = "application/json"
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        sent_headers.update(headers or {})
        for _ in range(30):
            connection = self._connection()
            try:
                connection.request(method, path, body=data, headers=sent_headers)
                reply = connection.getresponse()
                response = Response(reply.status, reply.headers, reply.read())
            finally:
                connection.close()
            # a real client backs off when told to; the rate-limit test turns this off to see the 429
            if response.status != 429 or not self.retry_when_limited:
                return response
            time.sleep(float(response.header("Retry-After") or 1))
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> Response:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body=None, **kwargs) -> Response:
        return self.request("PATCH", path, body, **kwargs)

    # --- the few steps most tests share ---------------------------------------------------------------------
    def register_and_log_in(self, name: str = "E2E Customer") -> tuple[str, str]:
        """A new customer account; returns (email, access token)."""
        email, password = f"e2e-{uuid.uuid4().hex[:12]}@example.com", "E2e-Passw0rd-long!"
        created = self.post("/api/v1/auth/register", {"email": email, "password": password, "name": name})
        assert created.status == 201, created
        return email, self.log_in(email, password)

    def log_in(self, email: str, password: str) -> str:
        response = self.post("/api/v1/auth/token", {"email": email, "password": password})
        assert response.status == 200, response
        return response.json["access"]


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.3, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test with ``what`` after ``timeout``."""
    return wait_until(predicate, timeout=timeout, interval=interval, what=what)
