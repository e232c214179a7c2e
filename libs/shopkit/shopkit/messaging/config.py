"""Messaging settings with their defaults, and the names of the broker objects a service uses."""
from dataclasses import dataclass

from django.conf import settings

from shopkit import defaults

EXCHANGE = "shop.events"  # the one topic exchange; routing key = event type


def rabbitmq_url() -> str:
    return getattr(settings, "SHOPKIT_RABBITMQ_URL", defaults.RABBITMQ_URL)


def service_name() -> str:
    return settings.SHOPKIT_SERVICE


def outbox_settings() -> dict:
    return {**defaults.OUTBOX, **getattr(settings, "SHOPKIT_OUTBOX", {})}


def consumer_settings() -> dict:
    return {"HANDLERS": "", **defaults.CONSUMER, **getattr(settings, "SHOPKIT_CONSUMER", {})}


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
