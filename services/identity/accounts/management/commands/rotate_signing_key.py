"""`manage.py rotate_signing_key`: a new key signs from now on; the old ones keep verifying until retired."""
from django.core.management.base import BaseCommand, CommandError

from accounts.keys import KeyStoreError, signing_key_rotate, signing_keys_describe


class Command(BaseCommand):
    help = ("Make a new RSA key the token signer. Earlier keys stay in the JWKS and keep verifying; "
            "retire one with retire_signing_key once the tokens it signed have expired.")

    def handle(self, *args, **options):
        try:
            key = signing_key_rotate()
        except KeyStoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"signing with {key.kid}")
        for entry in signing_keys_describe():
            self.stdout.write(f"  {entry['kid']}{'  (signing)' if entry['signing'] else ''}")
