"""Authentication, permissions, problem responses, request ids and health checks as a service's client sees them."""
import pytest
from django.test import override_settings

from shopkit.testing import auth_header, make_token

pytestmark = pytest.mark.django_db


def test_valid_token_gives_the_view_the_user_without_a_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/whoami", **auth_header(role="staff", user_id="u-1", email="s@example.com",
                                                        name="Sam"))
    assert response.status_code == 200
    assert response.json() == {"id": "u-1", "email": "s@example.com", "name": "Sam", "role": "staff"}


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer", "Bearer not.a.jwt"])
def test_missing_or_malformed_credentials_are_401_problems(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/whoami", **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["title"] and body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_customer_is_forbidden_from_staff_routes(client):
    response = client.get("/staff-only", **auth_header(role="customer"))
    assert response.status_code == 403
    assert response.json()["status"] == 403
    assert client.get("/staff-only", **auth_header(role="staff")).status_code == 200


def test_application_error_becomes_a_problem_with_its_code(client):
    response = client.post("/boom")
    assert response.status_code == 409
    assert response.json() == {"type": "urn:shop:problem:already-done", "title": "Conflict", "status": 409,
                               "detail": "already done"}


def test_unknown_route_is_a_json_404(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_request_id_is_echoed_and_becomes_the_events_correlation_id(client):
    response = client.post("/notes", HTTP_X_REQUEST_ID="req-abc-123")
    assert response["X-Request-ID"] == "req-abc-123"
    assert response.json()["correlationid"] == "req-abc-123"


def test_a_request_without_id_gets_a_fresh_one(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first and second and first != second


def test_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"


def test_health_and_readiness(client, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    settings.SHOPKIT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:1/%2F"
    response = client.get("/readyz")
    assert response.status_code == 503 and "broker" in response.json()["failures"][0]


def test_tokens_from_an_unknown_key_are_refused(client):
    token = make_token(kid="other-key")
    assert client.get("/whoami", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_jwks_keys_are_fetched_and_cached(client, settings, monkeypatch):
    from shopkit import auth
    from shopkit.testing import TEST_KID, test_private_key

    calls = []
    public = test_private_key().public_key()
    monkeypatch.setattr(auth, "fetch_jwks", lambda url: calls.append(url) or {TEST_KID: public})
    conf = {"JWKS_URL": "http://identity/jwks.json", "PUBLIC_KEYS": {}, "JWKS_MIN_REFETCH_SECONDS": 0}
    with override_settings(SHOPKIT_JWT=conf):
        for _ in range(3):
            assert client.get("/whoami", **auth_header()).status_code == 200
        assert len(calls) == 1  # cached
        # an unknown kid (identity rotated its key) triggers a refetch, which here still does not know it
        assert client.get("/whoami", HTTP_AUTHORIZATION=f"Bearer {make_token(kid='rotated')}").status_code == 401
        assert len(calls) == 2
    with override_settings(SHOPKIT_JWT={**conf, "JWKS_MIN_REFETCH_SECONDS": 60}):
        assert client.get("/whoami", **auth_header()).status_code == 200
        for _ in range(3):  # a flood of junk kids refetches at most once a minute
            client.get("/whoami", HTTP_AUTHORIZATION=f"Bearer {make_token(kid='junk')}")
    assert len(calls) == 3


def test_application_error_headers_reach_the_response():
    from shopkit.problems import ApplicationError, exception_handler

    response = exception_handler(ApplicationError("slow down", status=429, code="throttled",
                                                  headers={"Retry-After": "7"}), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.data["type"] == "urn:shop:problem:throttled"


def test_drf_validation_errors_become_field_errors():
    from rest_framework.exceptions import ValidationError

    from shopkit.problems import exception_handler

    response = exception_handler(ValidationError({"items": [{"quantity": ["Too many."]}]}), {})
    assert response.status_code == 400
    assert response.data["errors"] == {"items": [{"quantity": ["Too many."]}]}


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.oai.openapi+json", "*/*", ""])
def test_schema_is_json_for_every_reasonable_accept_header(client, accept):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get("/api/v1/schema/kittest/", **extra)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_a_route_answers_with_and_without_slash_and_is_documented_once(client):
    assert client.post("/boom").status_code == 409
    assert client.post("/boom/").status_code == 409
    paths = client.get("/api/v1/schema/kittest/").json()["paths"]
    assert "/boom" in paths and "/boom/" not in paths
