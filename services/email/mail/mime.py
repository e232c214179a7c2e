"""A ledger row as the message SMTP carries: Django's EmailMultiAlternatives, or the same bytes written directly.

Building Django's MIME objects and flattening them through the email package's generator and header folding took
more CPU than everything else a send does. Nearly every message is plain: ASCII headers that fit on their line,
a recipient address without display name or international characters, no body line longer than SMTP allows. For
those, ``plain_smtp_message`` writes the very bytes Django would produce (the tests compare the two); anything
else goes out through Django's own machinery.
"""
import random
import re
import sys
from dataclasses import dataclass
from email.utils import formatdate, parseaddr
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, sanitize_address

from mail.models import EmailMessage

CHARSET = "utf-8"  # Django's DEFAULT_CHARSET, the only one plain messages are written in
HEADER_LINE_LIMIT = 78  # the email package folds a longer header line (compat32's max_line_length)
# Printable ASCII words, one space apart: a value the email package neither encodes nor folds when it fits.
PLAIN_HEADER_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")
# user@example.com as Django's sanitize_address returns it unchanged: an ASCII dot-atom, an ASCII domain.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9-]{1,63}"
PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # what the email package's generator writes as CRLF


def build_email(message: EmailMessage) -> EmailMultiAlternatives:
    """The MIME message of a ledger row: text with an HTML alternative, and a Message-ID derived from the row's
    id, so every copy of one ledger row carries the same Message-ID."""
    email = EmailMultiAlternatives(subject=message.subject, body=message.body_text,
                                   from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to],
                                   headers=extra_headers(message))
    email.attach_alternative(message.body_html, "text/html")
    return email


def extra_headers(message: EmailMessage) -> dict[str, str]:
    """The headers a ledger row's message carries besides Django's own, in their order."""
    return {"Message-ID": f"<{message.id}@{_message_id_domain(settings.DEFAULT_FROM_EMAIL)}>",
            "X-Shop-Email-Id": str(message.id), "X-Shop-Email-Kind": message.kind}


@dataclass(frozen=True)
class SmtpMessage:
    """What smtplib's sendmail() takes: the envelope's sender and recipients, and the message's bytes."""

    sender: str
    recipients: list[str]
    data: bytes


def plain_smtp_message(message: EmailMessage) -> SmtpMessage | None:
    """``build_email(message)`` as Django's SMTP backend would send it, written directly; None when the message
    is not plain (see the module's docstring) and must go through Django."""
    if settings.DEFAULT_CHARSET != CHARSET or not PLAIN_ADDRESS.fullmatch(message.to):
        return None
    if not message.body_text:
        return None  # Django leaves an empty text part out: a message of one part
    # Django's order: Subject, From, To, Date, then the extra headers.
    headers = {"Subject": message.subject, "From": settings.DEFAULT_FROM_EMAIL, "To": message.to,
               "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME), **extra_headers(message)}
    if not all(is_plain_header(name, value) for name, value in headers.items()):
        return None
    text, html = _text_part("plain", message.body_text), _text_part("html", message.body_html)
    if text is None or html is None:
        return None
    boundary = _boundary(text, html)
    head = (f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\nMIME-Version: 1.0\r\n'
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n")
    separator = f"--{boundary}\r\n".encode("ascii")
    data = b"".join([head.encode("ascii"), separator, text, b"\r\n", separator, html,
                     f"\r\n--{boundary}--\r\n".encode("ascii")])
    return SmtpMessage(sender=_envelope_sender(settings.DEFAULT_FROM_EMAIL, CHARSET), recipients=[message.to],
                       data=data)


def is_plain_header(name: str, value: str) -> bool:
    """Whether the email package writes this header as ``name: value`` on one line, as it is."""
    return len(name) + 2 + len(value) <= HEADER_LINE_LIMIT and PLAIN_HEADER_VALUE.fullmatch(value) is not None


def _text_part(subtype: str, body: str) -> bytes | None:
    # Django's SafeMIMEText in UTF-8: 7bit or 8bit as the body needs, quoted-printable only for an overlong line.
    try:
        data = body.encode(CHARSET)
    except UnicodeError:
        return None  # lone surrogates: Django raises the error the sender records the message failed with
    if len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
            len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
            for line in body.splitlines()):
        return None
    transfer_encoding = "7bit" if data.isascii() else "8bit"
    return (f'Content-Type: text/{subtype}; charset="{CHARSET}"\r\nMIME-Version: 1.0\r\n'
            f"Content-Transfer-Encoding: {transfer_encoding}\r\n\r\n").encode("ascii") + LINE_BREAK.sub(b"\r\n", data)


def _boundary(*parts: bytes) -> str:
    # The email package's form of boundary; it must not occur in a part (that would end the part early).
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if not any(f"--{boundary}".encode("ascii") in part for part in parts):
            return boundary


@lru_cache(maxsize=8)
def _envelope_sender(from_email: str, charset: str) -> str:
    return sanitize_address(from_email, charset)  # what Django's backend gives smtplib; costly, and the same each time


@lru_cache(maxsize=8)
def _message_id_domain(from_email: str) -> str:
    return parseaddr(from_email)[1].rpartition("@")[2] or "localhost"
