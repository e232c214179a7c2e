"""`manage.py parked_list`: show the messages parked in this service's dead-letter queue, and why."""
import asyncio
import json

from django.core.management.base import BaseCommand

from shopkit.messaging import parking
from shopkit.messaging.config import rabbitmq_url, service_name


class Command(BaseCommand):
    help = "List parked messages of <service>.events.dead with their errors (nothing is removed)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object per line, body included")

    def handle(self, *args, **options):
        messages = asyncio.run(parking.list_parked(rabbitmq_url(), service_name()))
        for message in messages:
            if options["json"]:
                self.stdout.write(json.dumps(message))
            else:
                self.stdout.write(f"{message['message_id']}  {message['type']}  attempts={message['attempts']}  "
                                  f"parked_at={message['parked_at']}  error={message['error']}")
        if not options["json"]:
            self.stdout.write(f"{len(messages)} parked message(s)")
