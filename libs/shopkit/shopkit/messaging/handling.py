"""What a consumer runs: handlers under stable declared names, the service's table of them, and the refusal
that parks an event at once."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils.module_loading import import_string

from shopkit.envelope import Event
from shopkit.messaging.config import consumer_settings

NAME_MAX_LENGTH = 200  # InboxRecord.handler


@dataclass(frozen=True)
class Handler:
    """A handler function under the name its inbox records carry.

    The name is declared in the handler table, never derived from the function's Python name: renaming or
    moving the function must not make every redelivered event run again (DESIGN.md §3 forbids the same trap
    for event types). Change a name only together with a data migration of the inbox
    (``shopkit.messaging.handling.inbox_rename``).
    """

    name: str
    function: Callable[[Event], None]

    def __call__(self, event: Event) -> None:
        self.function(event)


class EventRefused(Exception):
    """Raised by a handler (or the service it calls) for an event that no retry can make succeed: news of an
    order this service never had, shipping what is not held. It is an inconsistency for a person to look at.

    The handler's transaction rolls back (inbox record included) and the consumer parks the event at once,
    with this message as its reason, instead of retrying it; once the cause is mended, ``parked_replay`` puts
    it back. A handler's business outcomes are not refusals: they are state changes and events (a reservation
    that fails emits stock.reservation_failed); and a failure that may pass (the database away, a lost race)
    is raised as it is and retried.
    """


def effect_transaction():
    """The transaction of an event's effect, for a service function a handler calls: its own when called alone
    (a test, a shell), the caller's when there is one.

    The consumer applies each event inside a transaction with its inbox record (several events of a batch share
    one) and rolls it back if the effect raises; a savepoint of the effect's own would only add two round trips
    to the database per event.
    """
    return transaction.atomic(savepoint=False)


def load_handlers(path: str | None = None) -> dict[str, Handler]:
    """The service's handler table (``SHOPKIT_CONSUMER['HANDLERS']``, a dotted path to a dict of event type →
    Handler), checked: every entry declares a name, and one name never stands for two functions."""
    path = path or consumer_settings()["HANDLERS"]
    if not path:
        raise RuntimeError("SHOPKIT_CONSUMER['HANDLERS'] names no handler table")
    return checked_handlers(import_string(path))


def checked_handlers(table: Mapping[str, Handler]) -> dict[str, Handler]:
    functions = {}
    for event_type, handler in table.items():
        if not isinstance(handler, Handler):
            raise TypeError(f"the handler of {event_type} must be a Handler(name, function), so that its inbox "
                            f"key survives a rename; got {handler!r}")
        if not handler.name or len(handler.name) > NAME_MAX_LENGTH:
            raise ValueError(f"the handler of {event_type} needs a name of 1 to {NAME_MAX_LENGTH} characters")
        if functions.setdefault(handler.name, handler.function) is not handler.function:
            raise ValueError(f"handler name {handler.name!r} is declared for two functions")
    return dict(table)


def inbox_rename(mapping: Mapping[str, str]):
    """A migration operation that renames the inbox's handler keys (old → new), so that events applied under
    the old name are still recognised as applied. For a service's own data migration, with a literal mapping."""
    from django.db import migrations

    def forward(apps, schema_editor):
        inbox = apps.get_model("shopkit_messaging", "InboxRecord")
        for old, new in mapping.items():
            inbox.objects.filter(handler=old).update(handler=new)

    def backward(apps, schema_editor):
        inbox = apps.get_model("shopkit_messaging", "InboxRecord")
        for old, new in mapping.items():
            inbox.objects.filter(handler=new).update(handler=old)

    return migrations.RunPython(forward, backward)
