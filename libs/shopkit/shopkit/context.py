"""The request and correlation ids of the work in hand, carried to every event and log line."""
import contextvars
import uuid
from contextlib import contextmanager

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_correlation_id() -> str:
    """The id that started this chain of work; a fresh one when nothing set it (a command, a shell)."""
    value = correlation_id.get()
    if value is None:
        value = str(uuid.uuid4())
        correlation_id.set(value)
    return value


@contextmanager
def correlated(value: str | None):
    """Run a block with ``value`` as the correlation id (the consumer wraps each handler in one)."""
    token = correlation_id.set(value or str(uuid.uuid4()))
    try:
        yield
    finally:
        correlation_id.reset(token)
