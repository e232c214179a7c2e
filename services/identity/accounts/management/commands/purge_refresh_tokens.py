"""`manage.py purge_refresh_tokens`: delete expired refresh-token records and stale sign-in failure counters."""
from django.core.management.base import BaseCommand

from accounts.services import refresh_tokens_purge


class Command(BaseCommand):
    help = "Delete refresh tokens past their expiry (they can no longer be used) and expired throttle counters."

    def handle(self, *args, **options):
        self.stdout.write(f"deleted {refresh_tokens_purge()} expired refresh tokens")
