"""`manage.py prepare_service [--seed COMMAND …] [--declare-topology]`: make this service ready to run, in one
Django start-up: migrate, run its seeds, and declare its queues and bindings (what `make up` does before it starts
the service's processes; one process instead of one per step)."""
import io

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Migrate, run the named seed commands in order, and with --declare-topology declare this service's "
            "queues (as declare_topology). Prints one line per seed: the last line of its output.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", action="append", default=[], dest="seeds", metavar="COMMAND",
                            help="a management command to run after migrating (repeat for several)")
        parser.add_argument("--declare-topology", action="store_true",
                            help="declare the exchange, this service's queues and bindings after seeding")

    def handle(self, *args, seeds, declare_topology, **options):
        call_command("migrate", interactive=False, verbosity=0)
        for seed in seeds:
            output = io.StringIO()
            call_command(seed, stdout=output)
            lines = output.getvalue().strip().splitlines()
            self.stdout.write(lines[-1] if lines else "")
        if declare_topology:
            call_command("declare_topology", stdout=io.StringIO())
