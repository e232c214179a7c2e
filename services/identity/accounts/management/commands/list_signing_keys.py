"""`manage.py list_signing_keys`: the kids that verify tokens, and which one signs."""
from django.core.management.base import BaseCommand

from accounts.keys import signing_keys_describe


class Command(BaseCommand):
    help = "List the signing keys (kid), marking the one that signs new tokens."

    def handle(self, *args, **options):
        for entry in signing_keys_describe():
            self.stdout.write(f"{entry['kid']}{'  (signing)' if entry['signing'] else ''}")
