"""`manage.py outbox_relay`: publish this service's outbox to RabbitMQ until SIGTERM (`run_worker relay`)."""
from django.core.management.base import BaseCommand

from shopkit.messaging.worker import build_loops, run_worker


class Command(BaseCommand):
    help = "Publish committed outbox events to RabbitMQ, in order, with publisher confirms."

    def handle(self, *args, **options):
        run_worker(build_loops(["relay"]))
