"""The test project's handler table: user.registered writes a Note, or raises while a Failure says so."""
from django.db.models import F

from shopkit import events
from tests.kitapp.models import Failure, Note


class Flaky(Exception):
    pass


def note_write_for_user(event):
    key = event.data["user_id"]
    failing = Failure.objects.filter(key=key, remaining__gt=0).first()
    if failing:
        # the decrement commits in its own transaction so the count survives the handler's rollback
        Failure.objects.filter(pk=failing.pk).update(remaining=F("remaining") - 1)
        raise Flaky(f"told to fail for {key}")
    Note.objects.create(key=key, text=event.data["name"])


def note_write_for_deleted_product(event):
    Note.objects.create(key=event.data["product_id"], text="deleted")


HANDLERS = {
    events.USER_REGISTERED: note_write_for_user,
    events.PRODUCT_DELETED: note_write_for_deleted_product,
}
