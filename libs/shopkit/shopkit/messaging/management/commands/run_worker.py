"""`manage.py run_worker LOOP [LOOP …]`: run this service's named messaging loops together in one process."""
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from shopkit.messaging.worker import build_loops, loop_table, run_worker


class Command(BaseCommand):
    help = ("Run the named loops (consumer, relay, and those the service registers in SHOPKIT_WORKER_LOOPS) in "
            "one process until SIGTERM; one of them ending ends the process.")

    def add_arguments(self, parser):
        parser.add_argument("loops", nargs="+", metavar="LOOP", help="e.g. consumer relay")

    def handle(self, *args, loops, **options):
        try:
            built = build_loops(loops)
        except ImproperlyConfigured as exc:
            raise CommandError(f"{exc} (known here: {', '.join(sorted(loop_table()))})") from None
        run_worker(built)
