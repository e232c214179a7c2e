"""Data migrations that keep what the running shop already did: events applied before a deploy stay applied."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.handlers import HANDLERS
from catalog.models import Reservation
from catalog.tests.builders import cancelled
from shopkit.messaging.consumer import apply_event
from shopkit.messaging.models import InboxRecord

BEFORE = ("catalog", "0002_reservation_cancelled_before_placed_derived")
AFTER = ("catalog", "0003_inbox_handler_names")


@pytest.mark.django_db(transaction=True)
def test_events_applied_under_the_old_python_name_keys_are_not_applied_again():
    event = cancelled("o-applied-before-the-deploy")
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old_state = executor.loader.project_state([BEFORE, ("shopkit_messaging", "0002_relay_lease_row")])
    old_inbox = old_state.apps.get_model("shopkit_messaging", "InboxRecord")
    # what the inbox held when keys were the handler functions' Python paths
    old_inbox.objects.create(event_id=event.id, handler="catalog.handlers.reservation_release_for_order",
                             event_type=event.type)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(InboxRecord.objects.values_list("handler", flat=True)) == ["reservation_release_for_order"]
    assert apply_event(event, HANDLERS[event.type]) is False  # the redelivery after the deploy: no effect
    assert not Reservation.objects.exists()


def test_every_handler_name_of_the_table_has_its_old_key_mapped():
    from importlib import import_module

    renamed = import_module("catalog.migrations.0003_inbox_handler_names").RENAMED
    assert {handler.name for handler in HANDLERS.values()} == set(renamed.values())
    # the keys were the functions' Python paths, which is what the migration finds in the inbox
    assert {f"{h.function.__module__}.{h.function.__qualname__}" for h in HANDLERS.values()} == set(renamed)
