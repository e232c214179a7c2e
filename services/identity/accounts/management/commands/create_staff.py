"""`manage.py create_staff --email E --password P [--name N]`: make sure a staff account exists (idempotent)."""
from django.core.management.base import BaseCommand, CommandError

from accounts.services import staff_ensure
from shopkit.problems import ApplicationError


class Command(BaseCommand):
    help = ("Create a staff account, or make an existing account staff (its password is left alone). "
            "Password validators do not apply: this is for operators (the launcher seeds admin/admin in dev).")

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="")

    def handle(self, *args, email, password, name, **options):
        try:
            user, created = staff_ensure(email=email, password=password, name=name)
        except ApplicationError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in (exc.errors or {}).items())
            raise CommandError(f"{exc.detail} {details}".strip()) from None
        self.stdout.write(f"{'created' if created else 'already present'}: staff account {user.email} ({user.id})")
