"""Inbox keys become the handlers' declared names (they were the functions' Python paths, which a rename
changed): events applied before this migration stay applied."""
from django.db import migrations

from shopkit.messaging.handling import inbox_rename

# The Python paths of the handlers as they were when the inbox was keyed by them → their declared names.
RENAMED = {
    "catalog.handlers.reservation_create_for_order": "reservation_create_for_order",
    "catalog.handlers.reservation_release_for_order": "reservation_release_for_order",
    "catalog.handlers.reservation_commit_for_order": "reservation_commit_for_order",
}


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_reservation_cancelled_before_placed_derived"), ("shopkit_messaging", "0002_relay_lease_row")]
    operations = [inbox_rename(RENAMED)]
