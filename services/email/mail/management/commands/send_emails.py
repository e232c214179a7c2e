"""`manage.py send_emails`: deliver queued messages over SMTP until SIGTERM or SIGINT (`run_worker sender`)."""
from django.core.management.base import BaseCommand

from mail.sender import Sender
from shopkit.messaging.worker import run_worker


class Command(BaseCommand):
    help = ("Send queued emails over SMTP (EMAIL_HOST:EMAIL_PORT), retrying with back-off; "
            "SIGTERM finishes the message in hand, then exits.")

    def add_arguments(self, parser):
        parser.add_argument("--poll-seconds", type=float, default=None,
                            help="how often an idle sender looks for due messages (SHOP_EMAIL_POLL_SECONDS)")

    def handle(self, *args, **options):
        run_worker({"sender": Sender(poll_seconds=options["poll_seconds"])})
