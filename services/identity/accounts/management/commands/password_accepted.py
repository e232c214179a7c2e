"""`manage.py password_accepted --email E < password`: exit 0 when that account would accept the password on stdin.

For the launcher: before it exposes the gateway beyond loopback it asks whether the staff account still takes
the development default, whatever SHOP_ADMIN_PASSWORD says now (create_staff never changes an existing
password). The candidate comes on stdin, never on the command line, where `ps` would show it.
"""
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import email_normalize

NOT_ACCEPTED = 3  # exit status when the account is missing, disabled, or refuses the password


class Command(BaseCommand):
    help = (f"Read a password from stdin; exit 0 if the account with --email exists, is active and accepts it, "
            f"{NOT_ACCEPTED} otherwise. Prints nothing about the password.")

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)

    def handle(self, *args, email, **options):
        candidate = sys.stdin.read().removesuffix("\n").removesuffix("\r")
        if not candidate:
            raise CommandError("give the password to check on stdin")
        user = User.objects.filter(email=email_normalize(email), is_active=True).first()
        accepted = user is not None and user.check_password(candidate)
        self.stdout.write("accepted" if accepted else "not accepted")
        if not accepted:
            sys.exit(NOT_ACCEPTED)
