"""Inbox keys become the handlers' declared names (they were the functions' Python paths, which a rename
changed): events applied before this migration stay applied."""
from django.db import migrations

from shopkit.messaging.handling import inbox_rename

# The Python paths of the handlers as they were when the inbox was keyed by them → their declared names.
RENAMED = {
    "mail.handlers.email_queue_welcome": "email_queue_welcome",
    "mail.handlers.email_queue_password_reset": "email_queue_password_reset",
    "mail.handlers.email_queue_order_confirmed": "email_queue_order_confirmed",
    "mail.handlers.email_queue_order_rejected": "email_queue_order_rejected",
    "mail.handlers.email_queue_order_cancelled": "email_queue_order_cancelled",
    "mail.handlers.email_queue_order_shipped": "email_queue_order_shipped",
    "mail.handlers.email_queue_order_delivered": "email_queue_order_delivered",
}


class Migration(migrations.Migration):
    dependencies = [("mail", "0002_password_reset_kind"), ("shopkit_messaging", "0002_relay_lease_row")]
    operations = [inbox_rename(RENAMED)]
