"""`manage.py outbox_relay`: publish this service's outbox to RabbitMQ until SIGTERM."""
from django.core.management.base import BaseCommand

from shopkit.messaging.relay import Relay
from shopkit.messaging.runtime import run_until_signalled


class Command(BaseCommand):
    help = "Publish committed outbox events to RabbitMQ, in order, with publisher confirms."

    def handle(self, *args, **options):
        worker = Relay()
        run_until_signalled(worker.run, ready=worker.ready)
