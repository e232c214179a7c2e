"""`manage.py parked_replay [--all | ID …]`: put parked messages back into this service's queue."""
import asyncio

from django.core.management.base import BaseCommand, CommandError

from shopkit.messaging import parking
from shopkit.messaging.config import rabbitmq_url, service_name


class Command(BaseCommand):
    help = "Move parked messages (by message id, or --all) back to <service>.events for another try."

    def add_arguments(self, parser):
        parser.add_argument("message_ids", nargs="*")
        parser.add_argument("--all", action="store_true")

    def handle(self, *args, **options):
        ids = options["message_ids"]
        if not ids and not options["all"]:
            raise CommandError("name the message ids to replay, or pass --all")
        replayed = asyncio.run(parking.replay_parked(rabbitmq_url(), service_name(), None if options["all"] else ids))
        missing = set(ids) - set(replayed)
        for message_id in replayed:
            self.stdout.write(f"replayed {message_id}")
        self.stdout.write(f"{len(replayed)} message(s) replayed")
        if missing:
            raise CommandError(f"not parked: {', '.join(sorted(missing))}")
