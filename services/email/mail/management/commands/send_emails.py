"""`manage.py send_emails`: deliver queued messages over SMTP until SIGTERM or SIGINT."""
from django.core.management.base import BaseCommand

from mail.sender import Sender
from shopkit.messaging.runtime import run_until_signalled


class Command(BaseCommand):
    help = ("Send queued emails over SMTP (EMAIL_HOST:EMAIL_PORT), retrying with back-off; "
            "SIGTERM finishes the message in hand, then exits.")

    def add_arguments(self, parser):
        parser.add_argument("--poll-seconds", type=float, default=None,
                            help="how often an idle sender looks for due messages (SHOP_EMAIL_POLL_SECONDS)")

    def handle(self, *args, **options):
        sender = Sender(poll_seconds=options["poll_seconds"])
        run_until_signalled(sender.run, ready=sender.ready)
