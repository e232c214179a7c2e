"""`manage.py consume_events`: run this service's event handlers until SIGTERM (`run_worker consumer`)."""
from django.core.management.base import BaseCommand

from shopkit.messaging.worker import build_loops, run_worker


class Command(BaseCommand):
    help = "Consume this service's queue: each event applied once, retried on failure, parked after N attempts."

    def handle(self, *args, **options):
        run_worker(build_loops(["consumer"]))
