"""Turning an event's data into a message: the template context of each kind, and the rendered parts."""
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string

from mail import conf, constants


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(kind: str, context: dict) -> RenderedEmail:
    """Render ``mail/<kind>.subject.txt``, ``.txt`` and ``.html`` with ``context``.

    The subject is folded onto one line (a header cannot hold a newline) and cut to the ledger's length.
    """
    subject = render_to_string(f"mail/{kind}.subject.txt", context)
    subject = " ".join(subject.split())[: constants.SUBJECT_MAX_LENGTH]
    text = render_to_string(f"mail/{kind}.txt", context)
    html = render_to_string(f"mail/{kind}.html", context)
    return RenderedEmail(subject=subject, text=text, html=html)


def welcome_context(data: dict) -> dict:
    """Context of the welcome message, from a `user.registered` payload."""
    return {"name": data["name"], "email": data["email"], "shop_url": conf.public_url()}


def password_reset_context(data: dict) -> dict:
    """Context of the password-reset message, from a `user.password_reset_requested` payload."""
    expires_at = datetime.fromisoformat(data["expires_at"])
    return {"name": data["name"], "email": data["email"], "reset_url": data["reset_url"],
            "expires_at": expires_at.strftime("%Y-%m-%d %H:%M UTC"), "shop_url": conf.public_url()}


def order_context(data: dict) -> dict:
    """Context of an order message, from any `order.*` payload (lines, total and shortages as far as present)."""
    order_id = str(data["order_id"])
    items = [
        {
            "name": item.get("name") or item.get("sku") or item.get("product_id"),
            "sku": item.get("sku", ""),
            "product_id": item.get("product_id", ""),
            "quantity": item.get("quantity"),
            "unit_price": item.get("unit_price"),
            "line_total": item.get("line_total"),
        }
        for item in data.get("items") or []
    ]
    return {
        "customer_name": data.get("customer_name", ""),
        "customer_email": data.get("customer_email", ""),
        "order_id": order_id,
        "order_ref": order_reference(order_id),
        "order_url": f"{conf.public_url()}/orders/{order_id}",
        "shop_url": conf.public_url(),
        "items": items,
        "total": data.get("total"),
        "currency": data.get("currency", ""),
        "reason": data.get("reason", ""),
        "shortages": shortages_in_words(data),
    }


def order_reference(order_id: str) -> str:
    """What a person calls the order: the first block of a UUID, upper-cased; a short id as it is."""
    return order_id.split("-")[0].upper() if len(order_id) > 12 else order_id


def shortages_in_words(data: dict) -> list[dict]:
    """Each shortage of an `order.rejected` payload with a label and a sentence a customer understands.

    The product's name comes from the payload's lines (DESIGN.md §3: order.rejected carries the order's items);
    the product id stands in only for a shortage of a product the order did not list, which no order sends.
    """
    names = {str(item["product_id"]): item["name"] for item in data.get("items") or []}
    described = []
    for shortage in data.get("shortages") or []:
        product_id = str(shortage.get("product_id", ""))
        label = names.get(product_id) or f"product {product_id}"
        requested, available = shortage.get("requested"), shortage.get("available")
        if not available or available <= 0:
            words = f"{label}: you asked for {requested}, but none is left"
        else:
            words = f"{label}: you asked for {requested}, but only {available} {'is' if available == 1 else 'are'} left"
        described.append({"label": label, "product_id": product_id, "requested": requested,
                          "available": available, "words": words})
    return described
