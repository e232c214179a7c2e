"""`manage.py wait_for_topology --service=<name> …`: wait until those services' queues and bindings are declared.

A relay runs it before publishing where nothing else orders start-up (a Kubernetes init container): an event
published to shop.events before a consuming service's queue is bound has nowhere to go and is dropped. It
checks, with passive declares (no permission needed), each service's dead-letter queue, which
``Consumer.declare`` declares after the main queue's bindings.
"""
import asyncio
import time

import aio_pika
from django.core.management.base import BaseCommand, CommandError

from shopkit.messaging.config import QueueNames, rabbitmq_url
from shopkit.messaging.consumer import BROKER_ERRORS


async def missing_queues(url: str, services: list[str]) -> list[str]:
    """The services (of ``services``) whose topology is not declared yet; raises on a broker error."""
    missing = []
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        for service in services:
            channel = await connection.channel()  # a failed passive declare closes its channel
            try:
                await channel.declare_queue(QueueNames(service).dead, passive=True)
            except aio_pika.exceptions.ChannelNotFoundEntity:
                missing.append(service)
            else:
                await channel.close()
    return missing


class Command(BaseCommand):
    help = "Wait until the named consuming services have declared their queues and bindings."

    def add_arguments(self, parser):
        parser.add_argument("--service", action="append", required=True, dest="services",
                            help="a consuming service whose queues must exist (repeat for several)")
        parser.add_argument("--timeout", type=float, default=300.0, help="seconds; 0 waits for ever")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks")

    def handle(self, *args, services, timeout, interval, **options):
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            try:
                missing = asyncio.run(missing_queues(rabbitmq_url(), services))
            except BROKER_ERRORS as exc:
                missing, reason = services, f"broker unreachable: {exc}"
            else:
                reason = "not declared yet"
            if not missing:
                self.stdout.write(f"topology declared for {', '.join(services)}")
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise CommandError(f"timed out waiting for the topology of {', '.join(missing)} ({reason})")
            self.stdout.write(f"waiting for the topology of {', '.join(missing)} ({reason})")
            time.sleep(interval)
