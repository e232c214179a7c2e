"""`manage.py retire_signing_key <kid>`: remove a key; the tokens it signed are refused from then on."""
from django.core.management.base import BaseCommand, CommandError

from accounts.keys import KeyStoreError, signing_key_retire


class Command(BaseCommand):
    help = ("Remove a signing key that no longer signs. Tokens it signed become invalid (401). "
            "A kid is base64url and may begin with '-': pass such a one as --kid=<kid>.")

    def add_arguments(self, parser):
        parser.add_argument("kid", nargs="?", help="the key id (list_signing_keys shows them)")
        # argparse reads a positional '-…' as an unknown option; --kid=-… is read as a value
        parser.add_argument("--kid", dest="kid_option", metavar="KID", help="the key id, for one beginning with '-'")

    def handle(self, *args, kid=None, kid_option=None, **options):
        kid = kid_option or kid
        if not kid:
            raise CommandError("name the key to retire: retire_signing_key <kid> (or --kid=<kid>)")
        try:
            signing_key_retire(kid=kid)
        except KeyStoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"retired {kid}")
