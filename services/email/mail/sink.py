"""The development SMTP sink: accepts every message into a Maildir, and a read-only HTTP view of that Maildir.

Nothing here is used in production; `make up` starts it (``manage.py smtp_sink``) so the shop's mail lands
where a developer can read it: with any mail client that reads a Maildir, or at ``http://127.0.0.1:8025/``.
"""
import email
import email.policy
import html
import json
import mailbox
import threading
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from aiosmtpd.controller import Controller

from shopkit.logging import get_logger

log = get_logger(__name__)


def open_maildir(path: Path) -> mailbox.Maildir:
    """The Maildir at ``path``, made complete: ``mailbox`` creates tmp/new/cur only when the folder itself is new."""
    for sub in ("tmp", "new", "cur"):
        (Path(path) / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(str(path), create=False)


class MaildirHandler:
    """aiosmtpd handler: each message is delivered into the Maildir, envelope recipients recorded in it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        open_maildir(self.path)

    async def handle_DATA(self, server, session, envelope):
        trace = (f"Return-Path: <{envelope.mail_from}>\r\n"
                 f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        with self._lock:
            key = open_maildir(self.path).add(trace + envelope.original_content)
        log.info("sink stored message", key=key, rcpt_tos=envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class Sink:
    """The SMTP sink and, optionally, its HTTP mailbox; ``start()`` returns at once, ``stop()`` ends both."""

    def __init__(self, *, maildir: Path, host: str = "127.0.0.1", port: int = 1025, http_port: int | None = None):
        self.maildir = Path(maildir)
        self.smtp = Controller(MaildirHandler(self.maildir), hostname=host, port=port)
        self.http = None
        if http_port is not None:
            self.http = ThreadingHTTPServer((host, http_port), _mailbox_request_handler(self.maildir))
        self._http_thread = None

    def start(self) -> None:
        self.smtp.start()
        if self.http is not None:
            self._http_thread = threading.Thread(target=self.http.serve_forever, name="sink-http", daemon=True)
            self._http_thread.start()

    def stop(self) -> None:
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        self.smtp.stop()


# --- reading the Maildir ----------------------------------------------------------------------------------
def read_messages(maildir: Path, *, to: str = "") -> list[dict]:
    """Every message of the Maildir as a dict, newest first; ``to`` keeps those addressed to it."""
    box = open_maildir(maildir)
    messages = []
    for key in box.keys():
        try:
            described = _describe(key, box.get_bytes(key))
        except KeyError:
            continue  # removed meanwhile
        if to and to.lower() not in [r.lower() for r in described["to"]]:
            continue
        messages.append(described)
    messages.sort(key=lambda m: (m["date"], m["id"]), reverse=True)
    return messages


def read_message(maildir: Path, key: str) -> dict | None:
    box = open_maildir(maildir)
    try:
        return _describe(key, box.get_bytes(key))
    except KeyError:
        return None


def _describe(key: str, raw: bytes) -> dict:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    envelope_to = [r.strip() for r in str(parsed.get("X-Envelope-To", "")).split(",") if r.strip()]
    text = parsed.get_body(preferencelist=("plain",))
    rich = parsed.get_body(preferencelist=("html",))
    return {
        "id": key,
        "date": _date(parsed.get("Date")),
        "from": str(parsed.get("From", "")),
        "to": envelope_to or [str(parsed.get("To", ""))],
        "subject": str(parsed.get("Subject", "")),
        "message_id": str(parsed.get("Message-ID", "")),
        "headers": {name: str(value) for name, value in parsed.items()},
        "text": text.get_content() if text is not None else "",
        "html": rich.get_content() if rich is not None else "",
    }


def _date(value) -> str:
    try:
        return parsedate_to_datetime(str(value)).astimezone(timezone.utc).isoformat()
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, timezone.utc).isoformat()


# --- the HTTP mailbox ---------------------------------------------------------------------------------------
def _mailbox_request_handler(maildir: Path):
    class MailboxRequestHandler(BaseHTTPRequestHandler):
        """GET / (HTML list), /messages[?to=] (JSON), /messages/<id> (JSON), /messages/<id>.html (its HTML part)."""

        server_version = "ShopSink/1"

        def do_GET(self):  # noqa: N802 - the name http.server dispatches to
            url = urlsplit(self.path)
            if url.path == "/":
                to = parse_qs(url.query).get("to", [""])[0]
                return self._send(200, "text/html; charset=utf-8", _index_page(read_messages(maildir, to=to)))
            if url.path in ("/messages", "/messages/"):
                to = parse_qs(url.query).get("to", [""])[0]
                return self._json(200, {"messages": read_messages(maildir, to=to)})
            if url.path.startswith("/messages/"):
                key = unquote(url.path[len("/messages/"):])
                as_html = key.endswith(".html")
                message = read_message(maildir, key[:-5] if as_html else key)
                if message is None:
                    return self._json(404, {"detail": "No such message."})
                if as_html:
                    # The mail's own HTML, sandboxed: no scripts, no same-origin access to this mailbox.
                    return self._send(200, "text/html; charset=utf-8", message["html"],
                                      {"Content-Security-Policy": "sandbox"})
                return self._json(200, message)
            return self._json(404, {"detail": "No such resource."})

        def do_HEAD(self):  # noqa: N802
            self.send_response(200 if urlsplit(self.path).path == "/" else 404)
            self.end_headers()

        def _json(self, status, body):
            self._send(status, "application/json", json.dumps(body, ensure_ascii=False))

        def _send(self, status, content_type, body: str, headers: dict | None = None):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # noqa: A002 - http.server's signature
            log.debug("sink http", request=format % args)

    return MailboxRequestHandler


def _index_page(messages: list[dict]) -> str:
    rows = "\n".join(
        f"<article><h2>{html.escape(m['subject'])}</h2>"
        f"<p><small>{html.escape(m['date'])} · from {html.escape(m['from'])} · to {html.escape(', '.join(m['to']))}"
        f" · <a href=\"/messages/{html.escape(m['id'])}.html\">HTML</a>"
        f" · <a href=\"/messages/{html.escape(m['id'])}\">JSON</a></small></p>"
        f"<pre>{html.escape(m['text'])}</pre></article>"
        for m in messages)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop mailbox</title>"
            "<style>body{font-family:sans-serif;max-width:900px;margin:0 auto;padding:1em}"
            "article{border-bottom:1px solid #ddd;padding:.5em 0}pre{white-space:pre-wrap}</style></head>"
            f"<body><h1>Shop mailbox ({len(messages)})</h1>{rows or '<p>No mail yet.</p>'}</body></html>")
