"""The HTTP routes of DESIGN.md §5 as a client sees them, bad input included."""
import json

import jwt
import pytest

from accounts.models import LoginThrottle, PasswordResetToken, RefreshToken, User
from accounts.tests.fixtures import PASSWORD, grace_window_passes
from shopkit.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"
RESET = "/api/v1/auth/password-reset"
RESET_CONFIRM = "/api/v1/auth/password-reset/confirm"
JWKS = "/api/v1/auth/jwks.json"


def post(client, url, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **extra)


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def written():
    """Everything a request could have written."""
    return (User.objects.count(), OutboxMessage.objects.count(), RefreshToken.objects.count(),
            LoginThrottle.objects.count())


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def sign_in(client, email="alice@example.com", password=PASSWORD, **extra):
    return post(client, TOKEN, {"email": email, "password": password}, **extra)


# -- register -----------------------------------------------------------------------------------------------

def test_register_creates_a_customer_and_answers_201(client):
    response = post(client, REGISTER, {"email": "Alice@Example.COM", "password": PASSWORD, "name": "Alice"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "name", "role"}
    assert body["email"] == "alice@example.com" and body["name"] == "Alice" and body["role"] == "customer"
    assert User.objects.get(pk=body["id"]).password.startswith("argon2$")


def test_register_with_a_trailing_slash_works_too(client):
    response = post(client, REGISTER + "/", {"email": "bob@example.com", "password": PASSWORD, "name": "Bob"})
    assert response.status_code == 201


def test_register_emits_user_registered_once(client):
    response = post(client, REGISTER, {"email": "carol@example.com", "password": PASSWORD, "name": "Carol"})

    [message] = OutboxMessage.objects.filter(event_type="user.registered")
    envelope = json.loads(message.body)
    assert envelope["data"] == {"user_id": response.json()["id"], "email": "carol@example.com", "name": "Carol"}
    assert envelope["subject"] == response.json()["id"]


def test_register_an_email_taken_in_any_case_is_409(client, make_user):
    make_user(email="alice@example.com")
    before = written()

    response = post(client, REGISTER, {"email": "ALICE@example.com", "password": PASSWORD, "name": "Alice 2"})

    body = assert_problem(response, 409)
    assert body["type"] == "urn:shop:problem:email-taken"
    assert written() == before


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "alice.example"])
def test_register_a_weak_password_is_400_with_password_errors(client, password):
    response = post(client, REGISTER, {"email": "alice.example@example.com", "password": password,
                                       "name": "Alice Example"})

    body = assert_problem(response, 400)
    assert body["errors"]["password"] and all(isinstance(m, str) for m in body["errors"]["password"])
    assert written() == (0, 0, 0, 0)


BAD_REGISTRATIONS = {
    "missing email": {"password": PASSWORD, "name": "A"},
    "missing password": {"email": "a@example.com", "name": "A"},
    "missing name": {"email": "a@example.com", "password": PASSWORD},
    "malformed email": {"email": "not-an-email", "password": PASSWORD, "name": "A"},
    "email with spaces": {"email": "a b@example.com", "password": PASSWORD, "name": "A"},
    "blank name": {"email": "a@example.com", "password": PASSWORD, "name": "   "},
    "blank password": {"email": "a@example.com", "password": "", "name": "A"},
    "number as password": {"email": "a@example.com", "password": 12345678901234, "name": "A"},
    "number as name": {"email": "a@example.com", "password": PASSWORD, "name": 42},
    "list as email": {"email": ["a@example.com"], "password": PASSWORD, "name": "A"},
    "null name": {"email": "a@example.com", "password": PASSWORD, "name": None},
    "bool as email": {"email": True, "password": PASSWORD, "name": "A"},
    "name too long": {"email": "a@example.com", "password": PASSWORD, "name": "x" * 151},
    "email too long": {"email": "a" * 250 + "@example.com", "password": PASSWORD, "name": "A"},
    "password too long": {"email": "a@example.com", "password": "x" * 257, "name": "A"},
}


@pytest.mark.parametrize("body", BAD_REGISTRATIONS.values(), ids=BAD_REGISTRATIONS.keys())
def test_register_bad_fields_are_400_with_field_errors_and_write_nothing(client, body):
    response = post(client, REGISTER, body)

    problem = assert_problem(response, 400)
    assert problem["errors"]
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize("raw", ["", "{", "not json", '{"email": "a@example.com",}', "[]", '"text"', "null"],
                         ids=["empty", "truncated", "text", "trailing comma", "array", "string", "null"])
def test_register_empty_or_malformed_json_is_400_and_writes_nothing(client, raw):
    response = post(client, REGISTER, raw)

    assert_problem(response, 400)
    assert written() == (0, 0, 0, 0)


def test_register_a_form_body_is_415(client):
    response = client.post(REGISTER, {"email": "a@example.com", "password": PASSWORD, "name": "A"})

    assert_problem(response, 415)
    assert written() == (0, 0, 0, 0)


def test_register_get_is_405(client):
    assert_problem(client.get(REGISTER), 405)


# -- token --------------------------------------------------------------------------------------------------

def test_token_returns_a_bearer_pair_for_the_right_password(client, make_user):
    user = make_user()

    response = sign_in(client, email="ALICE@example.com")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["access"] and body["refresh"]
    assert response["Cache-Control"] == "no-store"
    claims = jwt.decode(body["access"], options={"verify_signature": False})
    assert claims["sub"] == str(user.id) and claims["role"] == "customer"


def test_token_with_a_trailing_slash_works_too(client, make_user):
    make_user()
    assert post(client, TOKEN + "/", {"email": "alice@example.com", "password": PASSWORD}).status_code == 200


def test_token_wrong_password_and_unknown_email_get_the_same_401(client, make_user):
    make_user()

    wrong = assert_problem(sign_in(client, password="not-the-password"), 401)
    unknown = assert_problem(sign_in(client, email="nobody@example.com"), 401)

    assert wrong == unknown
    assert RefreshToken.objects.count() == 0


def test_token_ignores_a_stale_bearer_header(client, make_user):
    make_user()
    assert sign_in(client, HTTP_AUTHORIZATION="Bearer expired.or.garbage").status_code == 200


BAD_SIGN_INS = {
    "missing email": {"password": PASSWORD},
    "missing password": {"email": "alice@example.com"},
    "malformed email": {"email": "alice", "password": PASSWORD},
    "number as password": {"email": "alice@example.com", "password": 123},
    "object as email": {"email": {"x": 1}, "password": PASSWORD},
}


@pytest.mark.parametrize("body", BAD_SIGN_INS.values(), ids=BAD_SIGN_INS.keys())
def test_token_bad_fields_are_400_and_write_nothing(client, make_user, body):
    make_user()
    before = written()

    problem = assert_problem(post(client, TOKEN, body), 400)

    assert problem["errors"]
    assert written() == before


@pytest.mark.parametrize("raw", ["", "{", "[1, 2]"], ids=["empty", "truncated", "array"])
def test_token_empty_or_malformed_json_is_400(client, raw):
    assert_problem(post(client, TOKEN, raw), 400)
    assert written() == (0, 0, 0, 0)


# -- login throttling -------------------------------------------------------------------------------------

def test_repeated_failures_for_one_account_are_429_with_retry_after(client, make_user, identity_settings):
    make_user()
    for _ in range(5):
        assert_problem(sign_in(client, password="wrong-password"), 401)

    response = sign_in(client)  # the right password no longer helps while the account is locked

    body = assert_problem(response, 429)
    assert body["type"] == "urn:shop:problem:login-throttled"
    assert 0 < int(response["Retry-After"]) <= identity_settings["LOGIN_LOCKOUT_SECONDS"]
    assert body["retry_after"] == int(response["Retry-After"])


def test_repeated_failures_from_one_client_are_429_for_every_account(client, make_user, identity_settings):
    identity_settings["LOGIN_MAX_FAILURES_PER_CLIENT"] = 3
    make_user()
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for n in range(3):
        assert_problem(sign_in(client, email=f"victim{n}@example.com", password="guess", **attacker), 401)

    assert_problem(sign_in(client, **attacker), 429)
    assert sign_in(client, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_the_client_address_is_the_one_the_gateway_appended(client, make_user, identity_settings):
    identity_settings["LOGIN_MAX_FAILURES_PER_CLIENT"] = 2
    make_user()
    # The client writes a different address at the left each time; the gateway's entry (the last) is the same.
    for n in range(2):
        sign_in(client, email=f"x{n}@example.com", password="guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.9")

    assert_problem(sign_in(client, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9"), 429)


def test_guesses_from_one_address_leave_the_owner_signing_in_from_another(client, make_user):
    make_user()
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    answers = [sign_in(client, password="guess", **attacker).status_code for _ in range(12)]

    assert answers == [401] * 5 + [429] * 7
    assert sign_in(client, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
    # writing the owner's address in front does not move the attacker: the gateway's entry is the last one
    assert_problem(sign_in(client, HTTP_X_FORWARDED_FOR="198.51.100.2, 203.0.113.7"), 429)


# -- refresh ------------------------------------------------------------------------------------------------

def test_two_tabs_refreshing_at_once_both_stay_signed_in(client, make_user):
    make_user()
    first = sign_in(client).json()

    tab_a = post(client, REFRESH, {"refresh": first["refresh"]})
    tab_b = post(client, REFRESH, {"refresh": first["refresh"]})

    assert tab_a.status_code == tab_b.status_code == 200
    assert tab_a.json()["refresh"] == tab_b.json()["refresh"] and tab_a.json()["access"] == tab_b.json()["access"]
    assert post(client, REFRESH, {"refresh": tab_b.json()["refresh"]}).status_code == 200

def test_refresh_returns_a_new_pair_and_spends_the_old_refresh_token(client, make_user):
    make_user()
    first = sign_in(client).json()

    response = post(client, REFRESH, {"refresh": first["refresh"]})

    assert response.status_code == 200
    second = response.json()
    assert second["token_type"] == "Bearer" and second["refresh"] != first["refresh"]
    assert client.get(ME, **bearer(second["access"])).status_code == 200
    grace_window_passes()
    assert_problem(post(client, REFRESH, {"refresh": first["refresh"]}), 401)


def test_refresh_reusing_a_spent_token_revokes_its_successors(client, make_user):
    make_user()
    first = sign_in(client).json()
    second = post(client, REFRESH, {"refresh": first["refresh"]}).json()
    grace_window_passes()

    assert_problem(post(client, REFRESH, {"refresh": first["refresh"]}), 401)  # a stolen copy shows up

    assert_problem(post(client, REFRESH + "/", {"refresh": second["refresh"]}), 401)


def test_refresh_with_an_access_token_is_401(client, make_user):
    make_user()
    pair = sign_in(client).json()
    assert_problem(post(client, REFRESH, {"refresh": pair["access"]}), 401)


def test_refresh_works_with_a_stale_bearer_header(client, make_user):
    make_user()
    pair = sign_in(client).json()
    response = post(client, REFRESH, {"refresh": pair["refresh"]}, HTTP_AUTHORIZATION="Bearer expired")
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["garbage", "a.b.c", "x" * 10])
def test_refresh_with_a_garbage_token_is_401(client, value):
    assert_problem(post(client, REFRESH, {"refresh": value}), 401)
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize("raw", ["", "{", "{}", '{"refresh": 5}', '{"refresh": ""}', '{"refresh": null}', "[]"],
                         ids=["empty", "truncated", "missing", "number", "blank", "null", "array"])
def test_refresh_bad_input_is_400(client, raw):
    assert_problem(post(client, REFRESH, raw), 400)
    assert written() == (0, 0, 0, 0)


# -- logout -------------------------------------------------------------------------------------------------

def test_logout_is_204_and_the_refresh_token_is_401_afterwards(client, make_user):
    make_user()
    pair = sign_in(client).json()

    response = post(client, LOGOUT, {"refresh": pair["refresh"]})

    assert response.status_code == 204 and response.content == b""
    body = assert_problem(post(client, REFRESH, {"refresh": pair["refresh"]}), 401)
    assert body["type"] == "urn:shop:problem:invalid-token"
    assert post(client, LOGOUT + "/", {"refresh": pair["refresh"]}).status_code == 204  # again: still fine


def test_logout_ignores_a_stale_bearer_header(client, make_user):
    make_user()
    pair = sign_in(client).json()
    response = post(client, LOGOUT, {"refresh": pair["refresh"]}, HTTP_AUTHORIZATION="Bearer expired.or.junk")
    assert response.status_code == 204


@pytest.mark.parametrize("body,status", [({}, 400), ({"refresh": 5}, 400), ({"refresh": "junk"}, 401)])
def test_logout_bad_input(client, body, status):
    assert_problem(post(client, LOGOUT, body), status)


# -- password reset -------------------------------------------------------------------------------------------

def reset_token_emitted():
    [message] = OutboxMessage.objects.filter(event_type="user.password_reset_requested")
    return json.loads(message.body)["data"]["reset_url"].split("#token=")[1]


def test_password_reset_is_202_with_no_body_whether_or_not_the_account_exists(client, make_user):
    make_user()

    known = post(client, RESET, {"email": "alice@example.com"})
    unknown = post(client, RESET, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert OutboxMessage.objects.filter(event_type="user.password_reset_requested").count() == 1
    assert PasswordResetToken.objects.count() == 1


def test_password_reset_confirm_works_once_then_400(client, make_user):
    make_user()
    pair = sign_in(client).json()
    post(client, RESET, {"email": "alice@example.com"})
    token = reset_token_emitted()

    response = post(client, RESET_CONFIRM, {"token": token, "password": "fresh-and-long-passphrase"})

    assert response.status_code == 204
    assert sign_in(client, password="fresh-and-long-passphrase").status_code == 200
    assert_problem(post(client, REFRESH, {"refresh": pair["refresh"]}), 401)
    again = assert_problem(post(client, RESET_CONFIRM, {"token": token, "password": "another-long-passphrase"}), 400)
    assert again["type"] == "urn:shop:problem:invalid-reset-token"


def test_password_reset_confirm_with_a_weak_password_is_400_with_password_errors(client, make_user):
    make_user()
    post(client, RESET, {"email": "alice@example.com"})
    body = assert_problem(post(client, RESET_CONFIRM, {"token": reset_token_emitted(), "password": "123"}), 400)
    assert body["errors"]["password"]


@pytest.mark.parametrize("url,body", [
    (RESET, {}), (RESET, {"email": "not-an-email"}), (RESET, {"email": ["a@example.com"]}),
    (RESET_CONFIRM, {"token": "x"}), (RESET_CONFIRM, {"password": "long-enough-passphrase"}),
    (RESET_CONFIRM, {"token": 1, "password": "long-enough-passphrase"}),
])
def test_password_reset_bad_fields_are_400(client, url, body):
    assert_problem(post(client, url, body), 400)


def test_password_reset_is_429_with_retry_after_past_the_per_account_limit(client, make_user, identity_settings):
    identity_settings["PASSWORD_RESET_MAX_PER_ACCOUNT"] = 2
    make_user()
    for n in range(2):
        response = post(client, RESET, {"email": "alice@example.com"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert response.status_code == 202

    response = post(client, RESET, {"email": "alice@example.com"}, HTTP_X_FORWARDED_FOR="192.0.2.50")

    body = assert_problem(response, 429)
    assert body["type"] == "urn:shop:problem:password-reset-throttled"
    assert 0 < int(response["Retry-After"]) <= identity_settings["PASSWORD_RESET_WINDOW_SECONDS"]


def test_password_reset_is_429_past_the_per_client_limit(client, identity_settings):
    identity_settings["PASSWORD_RESET_MAX_PER_CLIENT"] = 2
    here = {"HTTP_X_FORWARDED_FOR": "192.0.2.60"}
    for n in range(2):
        assert post(client, RESET, {"email": f"p{n}@example.com"}, **here).status_code == 202

    assert_problem(post(client, RESET, {"email": "p9@example.com"}, **here), 429)
    assert_problem(post(client, RESET_CONFIRM, {"token": "t", "password": "long-enough-passphrase"}, **here), 429)
    assert post(client, RESET, {"email": "p9@example.com"}, HTTP_X_FORWARDED_FOR="192.0.2.61").status_code == 202


# -- me -----------------------------------------------------------------------------------------------------

def test_me_returns_the_signed_in_user(client, make_user):
    user = make_user()
    access = sign_in(client).json()["access"]

    for url in (ME, ME + "/"):
        response = client.get(url, **bearer(access))
        assert response.status_code == 200
        assert response.json() == {"id": str(user.id), "email": "alice@example.com", "name": "Alice Example",
                                   "role": "customer"}


def test_me_shows_the_current_role_of_a_promoted_user(client, make_user):
    make_user(email="bob@example.com")
    User.objects.filter(email="bob@example.com").update(role="staff")  # an operator promotes it in the database
    access = sign_in(client, email="bob@example.com").json()["access"]
    assert client.get(ME, **bearer(access)).json()["role"] == "staff"


def test_me_without_a_token_is_401(client):
    response = client.get(ME)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Bearer garbage", "Basic YWxpY2U6cHc=", "Token abc"])
def test_me_with_a_bad_authorization_header_is_401(client, header):
    assert_problem(client.get(ME, HTTP_AUTHORIZATION=header), 401)


def test_me_with_a_refresh_token_is_401(client, make_user):
    make_user()
    assert_problem(client.get(ME, **bearer(sign_in(client).json()["refresh"])), 401)


def test_me_for_a_deleted_account_is_401(client, make_user):
    user = make_user()
    access = sign_in(client).json()["access"]
    user.delete()
    assert_problem(client.get(ME, **bearer(access)), 401)


# -- jwks and schema ----------------------------------------------------------------------------------------

def test_jwks_lists_the_signing_key_with_its_kid(client, make_user):
    make_user()
    access = sign_in(client).json()["access"]

    response = client.get(JWKS)

    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert key["kid"] == jwt.get_unverified_header(access)["kid"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert "d" not in key and "p" not in key  # public parts only
    assert "max-age" in response["Cache-Control"]


def test_schema_is_an_openapi_json_document_of_every_route(client):
    response = client.get("/api/v1/schema/identity/")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/token/refresh", "/api/v1/auth/me",
            "/api/v1/auth/logout", "/api/v1/auth/password-reset", "/api/v1/auth/password-reset/confirm",
            "/api/v1/auth/jwks.json",
            # shopkit.ops, which every service mounts; identity also answers the shop-wide status
            "/api/v1/ops/status/", "/api/v1/ops/identity/status/", "/api/v1/ops/identity/parked/",
            "/api/v1/ops/identity/parked/{message_id}/replay", "/api/v1/ops/identity/parked/{message_id}/"
            } == set(document["paths"])


def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
                 "--file", str(tmp_path / "schema.json"))
    assert json.loads((tmp_path / "schema.json").read_text())["info"]["title"]


def test_unknown_route_is_a_404_problem(client):
    assert_problem(client.get("/api/v1/auth/nothing"), 404)


def test_healthz_is_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}
