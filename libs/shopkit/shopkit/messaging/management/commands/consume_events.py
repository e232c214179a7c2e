"""`manage.py consume_events`: run this service's event handlers until SIGTERM."""
from django.core.management.base import BaseCommand

from shopkit.messaging.consumer import Consumer
from shopkit.messaging.runtime import run_until_signalled


class Command(BaseCommand):
    help = "Consume this service's queue: each event applied once, retried on failure, parked after N attempts."

    def handle(self, *args, **options):
        worker = Consumer()
        run_until_signalled(worker.run, ready=worker.ready)
