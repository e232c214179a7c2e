"""`manage.py retire_signing_key <kid>`: remove a key; the tokens it signed are refused from then on."""
from django.core.management.base import BaseCommand, CommandError

from accounts.keys import KeyStoreError, signing_key_retire


class Command(BaseCommand):
    help = "Remove a signing key that no longer signs. Tokens it signed become invalid (401)."

    def add_arguments(self, parser):
        parser.add_argument("kid")

    def handle(self, *args, kid, **options):
        try:
            signing_key_retire(kid=kid)
        except KeyStoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"retired {kid}")
