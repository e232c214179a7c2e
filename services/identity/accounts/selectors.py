"""Reads of identity that are more than a one-line query."""
import uuid

from accounts.models import User


def user_get_active(*, user_id: str) -> User | None:
    """The active account with this id, or None (also for an id that is not a UUID)."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return None
    return User.objects.filter(pk=key, is_active=True).first()
