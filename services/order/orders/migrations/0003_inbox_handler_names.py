"""Inbox keys become the handlers' declared names (they were the functions' Python paths, which a rename
changed): events applied before this migration stay applied."""
from django.db import migrations

from shopkit.messaging.handling import inbox_rename

# The Python paths of the handlers as they were when the inbox was keyed by them → their declared names.
RENAMED = {
    "orders.handlers.product_replica_update": "product_replica_update",
    "orders.handlers.product_replica_delete": "product_replica_delete",
    "orders.handlers.order_confirm_for_reservation": "order_confirm_for_reservation",
    "orders.handlers.order_reject_for_reservation_failure": "order_reject_for_reservation_failure",
    "orders.handlers.order_email_record": "order_email_record",
}


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_timeline"), ("shopkit_messaging", "0002_relay_lease_row")]
    operations = [inbox_rename(RENAMED)]
