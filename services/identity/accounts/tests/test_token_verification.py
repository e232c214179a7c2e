"""Tokens identity issues, checked the way every other service checks them: shopkit's JWTAuthentication
with identity's public key (pinned, or fetched from the JWKS), and never identity's database."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import shopkit.auth
from accounts import keys
from accounts.services import token_obtain
from accounts.tests.fixtures import PASSWORD
from shopkit.testing import wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.other_service_urls")]

WHOAMI = "/other/whoami"


def public_pem(key) -> str:
    return key.public_key.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def as_another_service(settings, **conf):
    """What a service other than identity has: identity's public keys and nothing else of identity."""
    settings.SHOPKIT_JWT = {"ISSUER": "shop-identity", "AUDIENCE": "shop", "KEY_LOADER": "", "JWKS_URL": "",
                            "PUBLIC_KEYS": {}, "JWKS_MIN_REFETCH_SECONDS": 0, **conf}


@pytest.fixture
def pinned(settings):
    """Another service that pins identity's current public key."""
    key = keys.signing_key()
    as_another_service(settings, PUBLIC_KEYS={key.kid: public_pem(key)})
    return key


@pytest.fixture
def alice(make_user):
    return make_user(email="alice@example.com", name="Alice Example")


def get(client, token):
    return client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {token}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: dict) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def claims_for(user, **overrides):
    now = int(time.time())
    claims = {"sub": str(user.id), "email": user.email, "name": user.name, "role": user.role,
              "iss": "shop-identity", "aud": "shop", "iat": now, "exp": now + 900, "jti": "j-1", "typ": "access"}
    claims.update(overrides)
    return claims


def signed_by_identity(claims):
    key = keys.signing_key()
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def test_a_valid_token_gives_the_user_and_role_without_touching_the_database(client, alice, pinned,
                                                                             django_assert_num_queries):
    access = token_obtain(email="alice@example.com", password=PASSWORD).access

    with django_assert_num_queries(0):
        response = get(client, access)

    assert response.status_code == 200
    assert response.json() == {"id": str(alice.id), "email": "alice@example.com", "name": "Alice Example",
                               "role": "customer", "is_staff": False}


def test_a_staff_token_passes_the_staff_permission_and_a_customer_token_does_not(client, make_user, alice, pinned):
    make_user(email="admin@example.com", password="admin", role="staff")
    staff = token_obtain(email="admin@example.com", password="admin").access
    customer = token_obtain(email="alice@example.com", password=PASSWORD).access

    assert client.get("/other/staff-only", HTTP_AUTHORIZATION=f"Bearer {staff}").status_code == 200
    assert client.get("/other/staff-only", HTTP_AUTHORIZATION=f"Bearer {customer}").status_code == 403


def forged_signature(user):
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims_for(user, role="staff"), impostor, algorithm="RS256",
                      headers={"kid": keys.signing_key().kid})


def tampered_payload(user):
    header, _, signature = signed_by_identity(claims_for(user)).split(".")
    return ".".join([header, _segment(claims_for(user, role="staff")), signature])


def alg_none(user):
    return ".".join([_segment({"alg": "none", "typ": "JWT", "kid": keys.signing_key().kid}),
                     _segment(claims_for(user)), ""])


def hs256_with_the_public_key(user):
    """The classic confusion attack: HMAC keyed with the RSA public key, which anyone can fetch."""
    key = keys.signing_key()
    signing_input = ".".join([_segment({"alg": "HS256", "typ": "JWT", "kid": key.kid}),
                              _segment(claims_for(user))])
    mac = hmac.new(public_pem(key).encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def unknown_kid(user):
    key = keys.signing_key()
    return jwt.encode(claims_for(user), key.private_key, algorithm="RS256", headers={"kid": "not-a-key"})


BAD_TOKENS = {
    "forged signature": forged_signature,
    "tampered payload": tampered_payload,
    "expired": lambda u: signed_by_identity(claims_for(u, iat=int(time.time()) - 3600,
                                                       exp=int(time.time()) - 60)),
    "wrong issuer": lambda u: signed_by_identity(claims_for(u, iss="someone-else")),
    "wrong audience": lambda u: signed_by_identity(claims_for(u, aud="another-shop")),
    "no expiry": lambda u: signed_by_identity({k: v for k, v in claims_for(u).items() if k != "exp"}),
    "unknown role": lambda u: signed_by_identity(claims_for(u, role="admin")),
    "alg none": alg_none,
    "HS256 signed with the public key": hs256_with_the_public_key,
    "unknown kid": unknown_kid,
    "not a JWT": lambda u: "definitely-not-a-token",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_token_is_401(client, alice, pinned, make_token):
    response = get(client, make_token(alice))

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_refresh_token_is_401_at_another_service(client, alice, pinned):
    refresh = token_obtain(email="alice@example.com", password=PASSWORD).refresh
    assert get(client, refresh).status_code == 401


def test_the_same_claims_signed_properly_are_accepted(client, alice, pinned):
    # The control for the table above: only the defect in each bad token makes it fail.
    assert get(client, signed_by_identity(claims_for(alice))).status_code == 200


# -- keys fetched from identity's JWKS over HTTP ----------------------------------------------------------

@pytest.fixture
def from_jwks(settings, live_server, monkeypatch):
    """Another service that knows only identity's JWKS URL (identity served by a live server). Returns the list
    of fetches made, to see when the keys were fetched again."""
    fetches = []
    real_fetch = shopkit.auth.fetch_jwks

    def counting_fetch(url):
        fetches.append(url)
        return real_fetch(url)

    monkeypatch.setattr(shopkit.auth, "fetch_jwks", counting_fetch)
    as_another_service(settings, JWKS_URL=f"{live_server.url}/api/v1/auth/jwks.json", JWKS_CACHE_SECONDS=300)
    return fetches


@pytest.mark.urls("accounts.tests.both_urls")
def test_a_rotated_key_is_fetched_on_its_first_token_and_the_old_key_still_works(client, alice, from_jwks):
    old_token = token_obtain(email="alice@example.com", password=PASSWORD).access
    assert get(client, old_token).status_code == 200
    assert get(client, old_token).status_code == 200
    assert len(from_jwks) == 1  # cached

    keys.signing_key_rotate()
    new_token = token_obtain(email="alice@example.com", password=PASSWORD).access

    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    assert get(client, new_token).status_code == 200
    assert len(from_jwks) == 2  # the unknown kid made it fetch again
    assert get(client, old_token).status_code == 200


@pytest.mark.urls("accounts.tests.both_urls")
def test_a_retired_key_is_401_once_the_cached_jwks_has_expired(client, settings, alice, from_jwks):
    settings.SHOPKIT_JWT = {**settings.SHOPKIT_JWT, "JWKS_CACHE_SECONDS": 0}
    old_token = token_obtain(email="alice@example.com", password=PASSWORD).access
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    keys.signing_key_rotate()
    assert get(client, old_token).status_code == 200

    keys.signing_key_retire(kid=old_kid)

    # Verification never waits on identity for a key it holds: the expired cache is used while one background
    # refresh runs, and the retired key is refused as soon as that refresh has brought the new JWKS.
    wait_until(lambda: get(client, old_token).status_code == 401, what="the retired key to be refused")
    assert get(client, token_obtain(email="alice@example.com", password=PASSWORD).access).status_code == 200


@pytest.mark.urls("accounts.tests.both_urls")
def test_identity_itself_refuses_a_retired_key_at_once(client, alice):
    old = token_obtain(email="alice@example.com", password=PASSWORD)
    old_kid = jwt.get_unverified_header(old.access)["kid"]
    keys.signing_key_rotate()
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {old.access}").status_code == 200

    keys.signing_key_retire(kid=old_kid)

    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {old.access}").status_code == 401
    response = client.post("/api/v1/auth/token/refresh", {"refresh": old.refresh}, content_type="application/json")
    assert response.status_code == 401
