"""Messaging settings with their defaults, and the names of the broker objects a service uses."""
from dataclasses import dataclass

from django.conf import settings

EXCHANGE = "shop.events"  # the one topic exchange; routing key = event type


def rabbitmq_url() -> str:
    return getattr(settings, "SHOPKIT_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def service_name() -> str:
    return settings.SHOPKIT_SERVICE


def outbox_settings() -> dict:
    return {
        "BATCH_SIZE": 500,
        "POLL_SECONDS": 1.0,  # fallback when no doorbell rings (another host wrote the row)
        "RETENTION_HOURS": 72,  # published rows are pruned after this
        **getattr(settings, "SHOPKIT_OUTBOX", {}),
    }


def consumer_settings() -> dict:
    return {
        "PREFETCH": 32,
        "MAX_ATTEMPTS": 5,
        "RETRY_BASE_MS": 1000,  # attempt n waits base * 2^(n-1) before it is delivered again
        "HANDLERS": "",
        **getattr(settings, "SHOPKIT_CONSUMER", {}),
    }


@dataclass(frozen=True)
class QueueNames:
    """The queues of one consuming service."""

    service: str

    @property
    def main(self) -> str:
        return f"{self.service}.events"

    @property
    def dead(self) -> str:
        return f"{self.service}.events.dead"

    def retry(self, attempt: int) -> str:
        return f"{self.service}.events.retry.{attempt}"
