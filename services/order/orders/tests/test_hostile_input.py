"""Every route of the order service's OpenAPI document, called with overflowing and deeply nested values: no 5xx."""
import pytest

from shopkit.hostile import django_client_sender, server_errors
from shopkit.testing import auth_header

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["staff", "customer"])
def test_no_route_answers_a_5xx_to_overflowing_or_deeply_nested_input(client, role):
    document = client.get("/api/v1/schema/order/").json()
    sent, failures = server_errors(django_client_sender(client, **auth_header(role=role)), document)
    assert sent > 50, sent  # the document really listed the routes
    assert not failures, "\n".join(failures[:40])
