"""Reads of the email ledger for the staff routes."""
from django.db.models import QuerySet

from mail.models import EmailMessage
from shopkit.problems import NotFound


def email_list(*, to: str = "", order_id: str = "", kind: str = "", status: str = "",
               cause_event_id: str = "") -> QuerySet[EmailMessage]:
    """Messages matching every given filter (``to`` ignores case), newest first."""
    messages = EmailMessage.objects.defer("body_text", "body_html").order_by("-created_at", "id")
    if to:
        messages = messages.filter(to__iexact=to)
    if order_id:
        messages = messages.filter(order_id=order_id)
    if kind:
        messages = messages.filter(kind=kind)
    if status:
        messages = messages.filter(status=status)
    if cause_event_id:
        messages = messages.filter(cause_event_id=cause_event_id)
    return messages


def email_get(*, email_id) -> EmailMessage:
    """One message, bodies included; NotFound when there is none with that id."""
    message = EmailMessage.objects.filter(id=email_id).first()
    if message is None:
        raise NotFound("No such email.")
    return message
