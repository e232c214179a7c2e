"""The request and correlation ids of the work in hand, carried to every event and log line."""
import contextvars
import uuid
from contextlib import contextmanager

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_correlation_id() -> str:
    """The id that started this chain of work; a fresh one when nothing set it (a command, a shell).

    The fresh one is not stored: a long-running process outside any request (a sender loop, a seed command)
    must not lend one event's id to every later one. Wrap such work in ``correlated()`` to share an id.
    """
    return correlation_id.get() or str(uuid.uuid4())


@contextmanager
def correlated(value: str | None):
    """Run a block with ``value`` as the correlation id (the consumer wraps each handler in one)."""
    token = correlation_id.set(value or str(uuid.uuid4()))
    try:
        yield
    finally:
        correlation_id.reset(token)
