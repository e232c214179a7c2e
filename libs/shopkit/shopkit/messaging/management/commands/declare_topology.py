"""`manage.py declare_topology`: declare this service's exchange, queues and bindings, then exit.

Run it before the relays start (the launcher does, after migrate; a Kubernetes init job would): an event
published before any consumer's queue is bound has nowhere to go, and the broker drops it.
"""
import asyncio

import aio_pika
from django.core.management.base import BaseCommand

from shopkit.messaging.consumer import Consumer


class Command(BaseCommand):
    help = "Declare shop.events and this service's queues with their bindings (idempotent)."

    def handle(self, *args, **options):
        consumer = Consumer()

        async def declare():
            connection = await aio_pika.connect(consumer.url, timeout=10)
            async with connection:
                await consumer.declare(await connection.channel())

        asyncio.run(declare())
        self.stdout.write(f"declared {consumer.names.main} with {len(consumer.handlers)} binding(s)")
