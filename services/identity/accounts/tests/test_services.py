"""The service functions: registration, staff accounts, tokens, refresh rotation, login throttling."""
import json
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services
from accounts.keys import public_keys
from accounts.models import LoginThrottle, RefreshToken, User
from accounts.services import LoginThrottled, staff_ensure, token_obtain, token_refresh, user_register
from conftest import PASSWORD
from shopkit.messaging.models import OutboxMessage
from shopkit.problems import ApplicationError, Conflict

pytestmark = pytest.mark.django_db


def decode_access(token):
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(token, public_keys()[kid], algorithms=["RS256"], audience="shop", issuer="shop-identity")


# -- registration -------------------------------------------------------------------------------------------

def test_register_stores_the_email_lower_cased_and_the_password_hashed_with_argon2():
    user = user_register(email="  Dana@Example.ORG ", password=PASSWORD, name=" Dana ")

    user.refresh_from_db()
    assert user.email == "dana@example.org" and user.name == "Dana" and user.role == "customer"
    assert user.password.startswith("argon2$") and PASSWORD not in user.password
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD.upper())


def test_the_project_hashes_with_argon2_first():
    from config import settings as project

    assert project.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_register_writes_the_user_and_its_event_in_one_transaction(monkeypatch):
    def broken_emit(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(services, "emit", broken_emit)
    with pytest.raises(RuntimeError):
        user_register(email="erin@example.com", password=PASSWORD, name="Erin")

    assert not User.objects.exists() and not OutboxMessage.objects.exists()


def test_register_emits_one_user_registered_with_the_contract_payload():
    user = user_register(email="frank@example.com", password=PASSWORD, name="Frank")

    [message] = OutboxMessage.objects.all()
    assert message.event_type == "user.registered"
    assert json.loads(message.body)["data"] == {"user_id": str(user.id), "email": "frank@example.com",
                                                "name": "Frank"}


def test_register_a_taken_email_is_a_conflict_and_emits_nothing_more():
    user_register(email="gina@example.com", password=PASSWORD, name="Gina")

    with pytest.raises(Conflict):
        user_register(email="GINA@example.com", password=PASSWORD, name="Gina")
    assert OutboxMessage.objects.count() == 1


def test_the_database_refuses_a_second_email_differing_only_in_case():
    User.objects.create(email="hal@example.com", name="Hal", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="HAL@example.com", name="Hal", password="x")


def test_register_a_weak_password_lists_every_reason():
    with pytest.raises(ApplicationError) as caught:
        user_register(email="ivy@example.com", password="1234", name="Ivy")

    assert caught.value.status == 400
    assert len(caught.value.errors["password"]) >= 2  # too short and entirely numeric
    assert not User.objects.exists()


# -- staff accounts -----------------------------------------------------------------------------------------

def test_staff_ensure_creates_a_staff_account_even_with_a_weak_password():
    user, created = staff_ensure(email="Admin@Example.com", password="admin")

    assert created and user.role == "staff" and user.email == "admin@example.com" and user.name == "admin"
    assert user.check_password("admin")
    assert OutboxMessage.objects.filter(event_type="user.registered").count() == 1


def test_staff_ensure_is_idempotent_and_keeps_the_password():
    staff_ensure(email="admin@example.com", password="admin")

    user, created = staff_ensure(email="admin@example.com", password="something-else")

    assert not created and User.objects.count() == 1
    assert user.check_password("admin")
    assert OutboxMessage.objects.count() == 1


def test_staff_ensure_promotes_and_reenables_an_existing_customer():
    customer = user_register(email="jo@example.com", password=PASSWORD, name="Jo")
    User.objects.filter(pk=customer.pk).update(is_active=False)

    user, created = staff_ensure(email="jo@example.com", password="ignored")

    user.refresh_from_db()
    assert not created and user.role == "staff" and user.is_active


@pytest.mark.parametrize("email,password", [("not-an-email", "admin"), ("admin@example.com", "")])
def test_staff_ensure_refuses_a_bad_email_or_an_empty_password(email, password):
    with pytest.raises(ApplicationError):
        staff_ensure(email=email, password=password)
    assert not User.objects.exists()


# -- tokens -------------------------------------------------------------------------------------------------

def test_access_token_carries_the_contract_claims(identity_settings):
    identity_settings["ACCESS_SECONDS"] = 120
    user = user_register(email="kim@example.com", password=PASSWORD, name="Kim")

    pair = token_obtain(email="kim@example.com", password=PASSWORD)

    claims = decode_access(pair.access)
    assert {"sub", "email", "name", "role", "iss", "aud", "exp", "iat", "jti", "typ"} <= set(claims)
    assert (claims["sub"], claims["email"], claims["name"], claims["role"]) == (str(user.id), "kim@example.com",
                                                                              "Kim", "customer")
    assert claims["typ"] == "access" and claims["exp"] - claims["iat"] == 120 and pair.expires_in == 120
    header = jwt.get_unverified_header(pair.access)
    assert header["alg"] == "RS256" and header["kid"] in public_keys()


def test_refresh_token_lives_seven_days_and_is_only_for_identity():
    user_register(email="lee@example.com", password=PASSWORD, name="Lee")

    pair = token_obtain(email="lee@example.com", password=PASSWORD)

    claims = jwt.decode(pair.refresh, options={"verify_signature": False})
    assert claims["typ"] == "refresh" and claims["aud"] == "shop-identity"
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600
    record = RefreshToken.objects.get(jti=claims["jti"])
    assert record.used_at is None and record.revoked_at is None


def test_each_jti_is_unique():
    user_register(email="max@example.com", password=PASSWORD, name="Max")
    pairs = [token_obtain(email="max@example.com", password=PASSWORD) for _ in range(3)]
    jtis = {decode_access(p.access)["jti"] for p in pairs}
    assert len(jtis) == 3


def test_refresh_reuse_revokes_the_whole_family_but_not_other_sign_ins():
    user_register(email="ned@example.com", password=PASSWORD, name="Ned")
    laptop = token_obtain(email="ned@example.com", password=PASSWORD)
    phone = token_obtain(email="ned@example.com", password=PASSWORD)
    laptop_next = token_refresh(refresh=laptop.refresh)

    with pytest.raises(ApplicationError) as caught:
        token_refresh(refresh=laptop.refresh)

    assert caught.value.status == 401
    with pytest.raises(ApplicationError):
        token_refresh(refresh=laptop_next.refresh)
    assert token_refresh(refresh=phone.refresh).access


def test_an_expired_refresh_token_is_refused(identity_settings):
    identity_settings["REFRESH_SECONDS"] = -60  # issued already past its expiry (beyond the leeway)
    user_register(email="ola@example.com", password=PASSWORD, name="Ola")
    pair = token_obtain(email="ola@example.com", password=PASSWORD)

    with pytest.raises(ApplicationError) as caught:
        token_refresh(refresh=pair.refresh)
    assert caught.value.status == 401 and "expired" in caught.value.detail


def test_refresh_for_a_disabled_account_is_refused():
    user = user_register(email="pia@example.com", password=PASSWORD, name="Pia")
    pair = token_obtain(email="pia@example.com", password=PASSWORD)
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(ApplicationError):
        token_refresh(refresh=pair.refresh)


def test_refresh_carries_the_current_role():
    user_register(email="quinn@example.com", password=PASSWORD, name="Quinn")
    pair = token_obtain(email="quinn@example.com", password=PASSWORD)
    staff_ensure(email="quinn@example.com", password="unused")

    assert decode_access(token_refresh(refresh=pair.refresh).access)["role"] == "staff"


def test_a_disabled_account_cannot_sign_in():
    user = user_register(email="rae@example.com", password=PASSWORD, name="Rae")
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(ApplicationError) as caught:
        token_obtain(email="rae@example.com", password=PASSWORD)
    assert caught.value.status == 401


def test_an_old_password_hash_is_upgraded_to_argon2_on_sign_in():
    user = User.objects.create(email="sam@example.com", name="Sam",
                               password=make_password(PASSWORD, hasher="md5"))
    token_obtain(email="sam@example.com", password=PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_purge_deletes_only_expired_refresh_tokens():
    user_register(email="tia@example.com", password=PASSWORD, name="Tia")
    token_obtain(email="tia@example.com", password=PASSWORD)
    token_obtain(email="tia@example.com", password=PASSWORD)
    RefreshToken.objects.filter(pk=RefreshToken.objects.first().pk).update(expires_at=timezone.now() - timedelta(1))

    assert services.refresh_tokens_purge() == 1
    assert RefreshToken.objects.count() == 1


# -- login throttling -------------------------------------------------------------------------------------

def fail(email="uma@example.com", client_ip="192.0.2.1"):
    with pytest.raises(ApplicationError) as caught:
        token_obtain(email=email, password="wrong-password", client_ip=client_ip)
    return caught.value


def test_the_limit_th_failure_is_401_and_the_next_attempt_429():
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    statuses = [fail().status for _ in range(5)]

    with pytest.raises(LoginThrottled) as caught:
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")

    assert statuses == [401] * 5
    assert 295 <= caught.value.retry_after <= 300


def test_unknown_accounts_are_throttled_alike():
    for _ in range(5):
        fail(email="ghost@example.com")
    with pytest.raises(LoginThrottled):
        token_obtain(email="GHOST@example.com", password="x", client_ip="192.0.2.99")


def test_a_successful_sign_in_clears_the_account_count():
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    for _ in range(4):
        fail()
    token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")
    for _ in range(4):
        fail()

    assert token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1").access


def test_the_lockout_ends_after_its_period():
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    for _ in range(5):
        fail()
    with pytest.raises(LoginThrottled):
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")

    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))

    assert token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1").access


def test_failures_older_than_the_window_are_forgotten(identity_settings):
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    for _ in range(4):
        fail()
    window = timedelta(seconds=identity_settings["LOGIN_FAILURE_WINDOW_SECONDS"] + 1)
    LoginThrottle.objects.update(window_started_at=timezone.now() - window)

    fail()  # the fifth failure, but the first of a new window

    assert token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1").access


def test_the_client_count_is_not_cleared_by_a_success(identity_settings):
    identity_settings["LOGIN_MAX_FAILURES_PER_CLIENT"] = 3
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    fail(email="a@example.com")
    fail(email="b@example.com")
    token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")
    fail(email="c@example.com")

    with pytest.raises(LoginThrottled):
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")


def test_throttle_rows_store_no_typed_in_email():
    fail(email="secret-typed-password@example.com")
    assert not LoginThrottle.objects.filter(key__icontains="secret").exists()
    assert LoginThrottle.objects.count() == 2  # the account and the client
