"""Every route of the identity service's OpenAPI document, called with overflowing and deeply nested values: no 5xx."""
import json

import pytest

from accounts.tests.fixtures import PASSWORD
from shopkit.hostile import django_client_sender, server_errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["staff", "customer"])
def test_no_route_answers_a_5xx_to_overflowing_or_deeply_nested_input(client, make_user, role):
    make_user(email="walker@example.com", role=role)
    signed_in = client.post("/api/v1/auth/token", json.dumps({"email": "walker@example.com", "password": PASSWORD}),
                            content_type="application/json").json()
    document = client.get("/api/v1/schema/identity/").json()
    sender = django_client_sender(client, HTTP_AUTHORIZATION=f"Bearer {signed_in['access']}")
    sent, failures = server_errors(sender, document)
    assert sent > 50, sent  # the document really listed the routes
    assert not failures, "\n".join(failures[:40])
