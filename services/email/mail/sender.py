"""The sender: delivers queued ledger rows over SMTP, after they committed, and records each outcome.

One round claims a batch of due messages (a lease: see ``services.email_claim_due``), opens one SMTP
connection and sends them one by one. Right after the server accepts a message its row is marked sent, in a
transaction of its own that also emits `email.sent`. So a message goes out twice only if the sender dies in
the instant between the server's accept and that commit; the message keeps its Message-ID, so a receiving
system can still tell the copy. A sender that dies anywhere else leaves its unsent messages claimed until
the lease runs out, then another round sends them once.

Outcomes of a try:
- server unreachable (refused connection, timeout, TLS or login failure): the messages wait, with growing
  pauses, and no attempt is used up — they go out when the server is back;
- a permanent refusal (5xx to the recipient or to the message's data): failed at once, with the reply;
- anything else (4xx replies, a dropped connection mid-message): one attempt used, retried with exponential
  back-off, failed after ``MAX_ATTEMPTS``.
"""
import asyncio
import concurrent.futures
import smtplib
import threading
import time

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.db import connection as db_connection

from mail import conf, constants, services
from mail.mime import build_email, plain_smtp_message
from mail.models import EmailMessage
from shopkit import metrics
from shopkit.logging import get_logger
from shopkit.messaging.runtime import sleep_or_stop

log = get_logger(__name__)

RECORD_SENT_TRIES = 5


def _never() -> bool:
    return False


class Sender:
    def __init__(self, *, host: str | None = None, port: int | None = None, batch_size: int | None = None,
                 poll_seconds: float | None = None, lease_seconds: float | None = None,
                 server_retry_max_seconds: float | None = None):
        delivery = conf.delivery_settings()
        self.host = host or settings.EMAIL_HOST
        self.port = port or settings.EMAIL_PORT
        self.batch_size = batch_size or delivery["BATCH_SIZE"]
        self.poll_seconds = poll_seconds if poll_seconds is not None else delivery["POLL_SECONDS"]
        self.lease_seconds = lease_seconds or delivery["LEASE_SECONDS"]
        self.server_retry_max_seconds = server_retry_max_seconds or delivery["SERVER_RETRY_MAX_SECONDS"]
        self.server_retry_seconds = self.poll_seconds
        self.server_down = False
        metrics.start_at_zero((metrics.EMAILS_SENT, metrics.EMAILS_FAILED), constants.KINDS)
        self.sent = 0
        self.failed = 0
        self.ready = threading.Event()  # set once the loop runs (shopkit.testing.running waits for it)
        self._db = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sender-db")

    # --- the loop -------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Send rounds until ``stop`` is set; the message in hand is finished first (SIGTERM-safe)."""
        loop = asyncio.get_running_loop()
        self.ready.set()
        log.info("sender started", host=self.host, port=self.port)
        error_pause = self.poll_seconds
        try:
            while not stop.is_set():
                try:
                    claimed = await loop.run_in_executor(self._db, self._round, stop.is_set)
                except Exception as exc:  # noqa: BLE001 - a database outage must not end the sender; it is logged
                    log.exception("send round failed", error=repr(exc), retry_in=error_pause)
                    await sleep_or_stop(stop, error_pause)
                    error_pause = min(error_pause * 2 or 0.5, self.server_retry_max_seconds)
                    continue
                error_pause = self.poll_seconds
                if self.server_down:
                    await sleep_or_stop(stop, self.server_retry_seconds)
                elif claimed < self.batch_size:
                    await sleep_or_stop(stop, self.poll_seconds)
        finally:
            await loop.run_in_executor(self._db, connections.close_all)
            self._db.shutdown(wait=True)
            log.info("sender stopped", sent=self.sent, failed=self.failed)

    def _round(self, should_stop) -> int:
        close_old_connections()  # a connection the database dropped while we slept is replaced, not used
        return self.send_due(should_stop)

    # --- one round (runs in the sender's database thread, or directly in tests) -----------------------
    def send_due(self, should_stop=_never) -> int:
        """Claim a batch of due messages and try each once; return how many were claimed."""
        batch = services.email_claim_due(limit=self.batch_size, lease_seconds=self.lease_seconds)
        if not batch:
            return 0
        claimed_at = time.monotonic()
        pending = list(batch)
        backend = None
        try:
            while pending and not should_stop():
                if time.monotonic() - claimed_at > self.lease_seconds / 2:
                    break  # the rest go back rather than risk another sender taking them mid-send
                if backend is None:
                    backend = self._connect(pending)
                    if backend is None:
                        pending = []  # postponed while the server is away
                        break
                if not self._deliver(backend, pending.pop(0)):
                    _close_quietly(backend)
                    backend = None
        finally:
            if backend is not None:
                _close_quietly(backend)
            if pending:
                try:
                    services.email_release(email_ids=[m.id for m in pending])
                except Exception as exc:  # noqa: BLE001 - the lease returns them anyway; keep the first error
                    log.warning("could not release claimed messages", error=repr(exc), count=len(pending))
        return len(batch)

    def _connect(self, pending: list[EmailMessage]) -> EmailBackend | None:
        backend = EmailBackend(host=self.host, port=self.port, fail_silently=False)
        try:
            backend.open()
        except (OSError, smtplib.SMTPException) as exc:
            _close_quietly(backend)
            error = f"SMTP server {self.host}:{self.port} unavailable: {_describe(exc)}"
            log.warning("smtp server unavailable", error=error, waiting=len(pending),
                        retry_in=self.server_retry_seconds)
            services.email_postpone(email_ids=[m.id for m in pending], error=error,
                                    delay_seconds=self.server_retry_seconds)
            self.server_down = True
            self.server_retry_seconds = min(self.server_retry_seconds * 2 or 0.5, self.server_retry_max_seconds)
            return None
        if self.server_down:
            log.info("smtp server reachable again", host=self.host, port=self.port)
        self.server_down = False
        self.server_retry_seconds = self.poll_seconds
        return backend

    def _deliver(self, backend: EmailBackend, message: EmailMessage) -> bool:
        """Send one message and record the outcome; return whether the connection is still fit for the next."""
        started = time.perf_counter()
        try:
            _send(backend, message)
        except smtplib.SMTPRecipientsRefused as exc:
            replies = exc.recipients.values()
            error = "recipient refused: " + "; ".join(f"{code} {_text(text)}" for code, text in replies)
            if all(code >= 500 for code, _ in replies):
                self._failed(message, error)
            else:
                self._retry(message, error)
            # smtplib reset the transaction and the connection carries on, unless the server closed it (421).
            return all(code != 421 for code, _ in replies)
        except smtplib.SMTPResponseException as exc:
            error = f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
            if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500:
                self._failed(message, error)
            else:
                self._retry(message, error)
            return exc.smtp_code != 421  # 421: the server is closing the connection
        except (OSError, smtplib.SMTPException) as exc:
            self._retry(message, f"connection lost while sending: {_describe(exc)}")
            return False
        except (ValueError, UnicodeError) as exc:  # an address or header Django cannot encode: it never will
            self._failed(message, f"message cannot be encoded: {exc}")
            return True
        # Accepted. Record it before anything else: this commit closes the window for a double send.
        self._record_sent(message)
        self.sent += 1
        metrics.SMTP_LATENCY.observe(time.perf_counter() - started)
        metrics.EMAILS_SENT.labels(message.kind).inc()
        log.info("email sent", email_id=str(message.id), kind=message.kind, attempt=message.attempts + 1)
        return True

    def _record_sent(self, message: EmailMessage) -> None:
        # A database hiccup here would leave an accepted message queued, to be sent again when its lease ends:
        # try a few times before giving up on recording it.
        for attempt in range(1, RECORD_SENT_TRIES + 1):
            try:
                services.email_mark_sent(email_id=message.id, claimed=message)
                return
            except (OperationalError, InterfaceError) as exc:
                if attempt == RECORD_SENT_TRIES:
                    log.error("could not record a sent email; it will be sent again after its lease",
                              email_id=str(message.id), error=repr(exc))
                    raise
                log.warning("recording a sent email failed, retrying", email_id=str(message.id), error=repr(exc))
                db_connection.close()
                time.sleep(0.2 * attempt)

    def _failed(self, message: EmailMessage, error: str) -> None:
        services.email_mark_failed(email_id=message.id, error=error)
        self.failed += 1
        metrics.EMAILS_FAILED.labels(message.kind).inc()
        log.warning("email failed", email_id=str(message.id), kind=message.kind, error=error)

    def _retry(self, message: EmailMessage, error: str) -> None:
        status = services.email_mark_retry(email_id=message.id, error=error)
        if status == constants.STATUS_FAILED:
            self.failed += 1
            metrics.EMAILS_FAILED.labels(message.kind).inc()
            log.warning("email failed after its last attempt", email_id=str(message.id), error=error)
        else:
            log.info("email will be retried", email_id=str(message.id), error=error)


def _send(backend: EmailBackend, message: EmailMessage) -> None:
    """Hand one message to the server on the backend's open connection; raises what smtplib raises, and ValueError
    or UnicodeError for a message that cannot be encoded."""
    plain = plain_smtp_message(message)
    if plain is None:
        backend.send_messages([build_email(message)])
    else:  # the bytes Django's backend would send (mail.mime), without building them through its MIME objects
        backend.connection.sendmail(plain.sender, plain.recipients, plain.data)


def _close_quietly(backend: EmailBackend) -> None:
    try:
        backend.close()
    except (OSError, smtplib.SMTPException):
        pass  # the connection is being dropped anyway


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
