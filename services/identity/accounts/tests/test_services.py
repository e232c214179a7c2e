"""The service functions: registration, staff accounts, tokens, refresh rotation and its grace window, sign-out,
password reset, and the throttles."""
import json
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services
from accounts.keys import public_keys
from accounts.models import LoginThrottle, PasswordResetToken, RefreshToken, User
from accounts.services import (
    Throttled,
    password_reset_confirm,
    password_reset_request,
    staff_ensure,
    token_logout,
    token_obtain,
    token_refresh,
    user_register,
)
from accounts.tests.fixtures import PASSWORD, grace_window_passes
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


def test_register_a_taken_email_does_no_argon2_work(monkeypatch):
    user_register(email="gus@example.com", password=PASSWORD, name="Gus")
    hashed = []
    monkeypatch.setattr(User, "set_password", lambda self, raw: hashed.append(raw))

    with pytest.raises(Conflict):
        user_register(email="gus@example.com", password=PASSWORD, name="Gus")
    assert hashed == []


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


def test_staff_ensure_never_promotes_or_reenables_an_existing_account():
    squatter = user_register(email="jo@example.com", password=PASSWORD, name="Jo")
    disabled = user_register(email="kim@example.com", password=PASSWORD, name="Kim")
    User.objects.filter(pk=disabled.pk).update(is_active=False, role="staff")

    for email in ("JO@example.com", "kim@example.com"):
        user, created = staff_ensure(email=email, password="the-operators-password")
        assert not created

    squatter.refresh_from_db()
    disabled.refresh_from_db()
    assert squatter.role == "customer" and squatter.check_password(PASSWORD)
    assert not squatter.check_password("the-operators-password")
    assert disabled.role == "staff" and not disabled.is_active
    assert OutboxMessage.objects.filter(event_type="user.registered").count() == 2


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
    grace_window_passes()

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
    User.objects.filter(email="quinn@example.com").update(role="staff")  # an operator's change in the database

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

    with pytest.raises(Throttled) as caught:
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")

    assert statuses == [401] * 5
    assert 295 <= caught.value.retry_after <= 300


def test_unknown_accounts_are_throttled_alike():
    for _ in range(5):
        fail(email="ghost@example.com")
    with pytest.raises(Throttled):
        token_obtain(email="GHOST@example.com", password="x", client_ip="192.0.2.1")


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
    with pytest.raises(Throttled):
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

    with pytest.raises(Throttled):
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="192.0.2.1")


def test_throttle_rows_store_no_typed_in_email():
    fail(email="secret-typed-password@example.com")
    assert not LoginThrottle.objects.filter(key__icontains="secret").exists()
    assert LoginThrottle.objects.count() == 2  # the account and the client


def test_a_sign_in_is_throttled_per_address_so_the_owner_elsewhere_still_gets_in():
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    for _ in range(12):
        try:
            token_obtain(email="uma@example.com", password="guess", client_ip="198.51.100.7")
        except ApplicationError as exc:
            last = exc
    assert isinstance(last, Throttled)

    assert token_obtain(email="uma@example.com", password=PASSWORD, client_ip="198.51.100.9").access
    with pytest.raises(Throttled):  # the right password from the guessing address waits out the lockout
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="198.51.100.7")


def test_one_address_guessing_many_accounts_hits_the_per_address_limit(identity_settings):
    identity_settings["LOGIN_MAX_FAILURES_PER_CLIENT"] = 4
    user_register(email="uma@example.com", password=PASSWORD, name="Uma")
    for n in range(4):
        fail(email=f"someone{n}@example.com", client_ip="198.51.100.7")

    with pytest.raises(Throttled):
        token_obtain(email="uma@example.com", password=PASSWORD, client_ip="198.51.100.7")
    assert token_obtain(email="uma@example.com", password=PASSWORD, client_ip="198.51.100.8").access


# -- refresh grace window, sign-out --------------------------------------------------------------------------

def test_a_refresh_token_used_twice_within_the_grace_window_gives_the_same_pair_both_times():
    user_register(email="rue@example.com", password=PASSWORD, name="Rue")
    pair = token_obtain(email="rue@example.com", password=PASSWORD)

    first = token_refresh(refresh=pair.refresh)
    second = token_refresh(refresh=pair.refresh)

    assert (second.access, second.refresh) == (first.access, first.refresh)
    assert RefreshToken.objects.count() == 2  # the sign-in's token and its one successor, nothing more
    assert decode_access(second.access)["sub"] == str(User.objects.get().id)
    assert token_refresh(refresh=second.refresh).access  # the family is alive


def test_a_refresh_token_reused_after_the_grace_window_revokes_the_family(identity_settings):
    user_register(email="rue@example.com", password=PASSWORD, name="Rue")
    pair = token_obtain(email="rue@example.com", password=PASSWORD)
    successor = token_refresh(refresh=pair.refresh)
    grace_window_passes()

    with pytest.raises(ApplicationError) as caught:
        token_refresh(refresh=pair.refresh)

    assert caught.value.status == 401 and "already used" in caught.value.detail
    with pytest.raises(ApplicationError):
        token_refresh(refresh=successor.refresh)
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_a_zero_grace_window_is_strict_reuse_detection(identity_settings):
    identity_settings["REFRESH_REUSE_GRACE_SECONDS"] = 0
    user_register(email="rue@example.com", password=PASSWORD, name="Rue")
    pair = token_obtain(email="rue@example.com", password=PASSWORD)
    token_refresh(refresh=pair.refresh)
    RefreshToken.objects.filter(used_at__isnull=False).update(used_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ApplicationError):
        token_refresh(refresh=pair.refresh)


def test_within_the_grace_window_a_revoked_successor_is_not_handed_out():
    user_register(email="rue@example.com", password=PASSWORD, name="Rue")
    pair = token_obtain(email="rue@example.com", password=PASSWORD)
    successor = token_refresh(refresh=pair.refresh)
    token_logout(refresh=successor.refresh)

    with pytest.raises(ApplicationError) as caught:
        token_refresh(refresh=pair.refresh)
    assert caught.value.status == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_all_get_the_same_pair():
    import threading

    from django.db import connection

    user_register(email="tab@example.com", password=PASSWORD, name="Tabs")
    pair = token_obtain(email="tab@example.com", password=PASSWORD)
    tabs = 4
    barrier, results = threading.Barrier(tabs), []

    def tab():
        try:
            barrier.wait(timeout=10)
            results.append(token_refresh(refresh=pair.refresh))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == tabs and all(not isinstance(r, Exception) for r in results), results
    assert len({(r.access, r.refresh) for r in results}) == 1
    assert RefreshToken.objects.count() == 2 and not RefreshToken.objects.filter(revoked_at__isnull=False).exists()


def test_logout_revokes_that_sign_in_only():
    user_register(email="lou@example.com", password=PASSWORD, name="Lou")
    laptop = token_obtain(email="lou@example.com", password=PASSWORD)
    phone = token_obtain(email="lou@example.com", password=PASSWORD)
    laptop_next = token_refresh(refresh=laptop.refresh)

    token_logout(refresh=laptop.refresh)  # an older token of the sign-in ends it all the same
    token_logout(refresh=laptop.refresh)  # and again: nothing left to do, no error

    for refresh in (laptop.refresh, laptop_next.refresh):
        with pytest.raises(ApplicationError) as caught:
            token_refresh(refresh=refresh)
        assert caught.value.status == 401
    assert token_refresh(refresh=phone.refresh).access


def test_logout_accepts_an_expired_token_but_not_a_forged_one(identity_settings):
    identity_settings["REFRESH_SECONDS"] = -60
    user_register(email="lou@example.com", password=PASSWORD, name="Lou")
    pair = token_obtain(email="lou@example.com", password=PASSWORD)

    token_logout(refresh=pair.refresh)

    assert RefreshToken.objects.get().revoked_at is not None
    for bad in (pair.access, pair.refresh[:-4] + "AAAA", "not-a-token"):
        with pytest.raises(ApplicationError) as caught:
            token_logout(refresh=bad)
        assert caught.value.status == 401


# -- password reset -----------------------------------------------------------------------------------------

def reset_link(user_email="rita@example.com"):
    """The token of the latest reset link emitted for ``user_email``, as the email service would send it."""
    messages = [json.loads(m.body) for m in OutboxMessage.objects.filter(
        event_type="user.password_reset_requested").order_by("created_at", "id")]
    data = [m["data"] for m in messages if m["data"]["email"] == user_email][-1]
    return data, data["reset_url"].split("#token=", 1)[1]


def test_a_reset_request_emits_the_contract_payload_with_a_link_to_the_public_url(settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    user = user_register(email="rita@example.com", password=PASSWORD, name="Rita")

    password_reset_request(email=" RITA@example.com ", client_ip="192.0.2.5")

    data, token = reset_link()
    assert set(data) == {"user_id", "email", "name", "reset_url", "expires_at"}
    assert data["user_id"] == str(user.id) and data["name"] == "Rita"
    assert data["reset_url"] == f"https://shop.example.com/reset-password#token={token}"
    assert len(token) >= 40
    expires = timezone.datetime.fromisoformat(data["expires_at"])
    assert timedelta(minutes=59) < expires - timezone.now() <= timedelta(hours=1)
    [stored] = PasswordResetToken.objects.all()
    assert token not in stored.token_hash and stored.token_hash == services._reset_token_digest(token)


def test_a_reset_request_for_an_unknown_or_disabled_address_emits_nothing_and_stores_nothing():
    user = user_register(email="dis@example.com", password=PASSWORD, name="Dis")
    User.objects.filter(pk=user.pk).update(is_active=False)

    password_reset_request(email="nobody@example.com")
    password_reset_request(email="dis@example.com")

    assert not OutboxMessage.objects.filter(event_type="user.password_reset_requested").exists()
    assert not PasswordResetToken.objects.exists()


def test_both_branches_of_a_reset_request_make_and_hash_a_token(monkeypatch):
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    hashed = []
    real = services._reset_token_digest
    monkeypatch.setattr(services, "_reset_token_digest", lambda token: hashed.append(token) or real(token))

    password_reset_request(email="rita@example.com")
    password_reset_request(email="nobody@example.com")

    assert len(hashed) == 2


def test_a_reset_sets_the_password_once_and_ends_every_sign_in():
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    laptop = token_obtain(email="rita@example.com", password=PASSWORD)
    phone = token_obtain(email="rita@example.com", password=PASSWORD)
    password_reset_request(email="rita@example.com")
    _, token = reset_link()

    password_reset_confirm(token=token, password="a-brand-new-passphrase")

    assert token_obtain(email="rita@example.com", password="a-brand-new-passphrase").access
    with pytest.raises(ApplicationError):
        token_obtain(email="rita@example.com", password=PASSWORD)
    for pair in (laptop, phone):
        with pytest.raises(ApplicationError):
            token_refresh(refresh=pair.refresh)
    with pytest.raises(ApplicationError) as caught:
        password_reset_confirm(token=token, password="yet-another-passphrase")
    assert caught.value.status == 400 and caught.value.code == "invalid-reset-token"


def test_a_reset_spends_every_other_link_of_the_account():
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    password_reset_request(email="rita@example.com")
    _, older = reset_link()
    password_reset_request(email="rita@example.com")
    _, newer = reset_link()

    password_reset_confirm(token=newer, password="a-brand-new-passphrase")

    with pytest.raises(ApplicationError):
        password_reset_confirm(token=older, password="an-attackers-passphrase")


def test_an_expired_or_unknown_reset_token_is_400():
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    password_reset_request(email="rita@example.com")
    _, token = reset_link()
    PasswordResetToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    for candidate in (token, "made-up-token"):
        with pytest.raises(ApplicationError) as caught:
            password_reset_confirm(token=candidate, password="a-brand-new-passphrase")
        assert caught.value.status == 400 and caught.value.code == "invalid-reset-token"
    assert token_obtain(email="rita@example.com", password=PASSWORD).access


def test_a_weak_new_password_is_400_and_leaves_the_link_usable():
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    password_reset_request(email="rita@example.com")
    _, token = reset_link()

    with pytest.raises(ApplicationError) as caught:
        password_reset_confirm(token=token, password="rita@example.com")
    assert caught.value.status == 400 and caught.value.errors["password"]

    password_reset_confirm(token=token, password="a-brand-new-passphrase")


def test_reset_requests_are_limited_per_account_wherever_they_come_from(identity_settings):
    identity_settings["PASSWORD_RESET_MAX_PER_ACCOUNT"] = 3
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    for n in range(3):
        password_reset_request(email="rita@example.com", client_ip=f"192.0.2.{n}")

    with pytest.raises(Throttled) as caught:
        password_reset_request(email="RITA@example.com", client_ip="192.0.2.77")

    assert caught.value.status == 429 and caught.value.code == "password-reset-throttled"
    assert 0 < caught.value.retry_after <= identity_settings["PASSWORD_RESET_WINDOW_SECONDS"]
    assert OutboxMessage.objects.filter(event_type="user.password_reset_requested").count() == 3
    with pytest.raises(Throttled):  # unknown addresses are limited alike: a 429 reveals nothing
        for _ in range(4):
            password_reset_request(email="nobody@example.com", client_ip="192.0.2.78")


def test_reset_requests_and_failed_confirms_are_limited_per_client(identity_settings):
    identity_settings["PASSWORD_RESET_MAX_PER_CLIENT"] = 3
    password_reset_request(email="a@example.com", client_ip="192.0.2.9")
    with pytest.raises(ApplicationError):
        password_reset_confirm(token="guess-1", password="whatever-it-is", client_ip="192.0.2.9")
    with pytest.raises(ApplicationError):
        password_reset_confirm(token="guess-2", password="whatever-it-is", client_ip="192.0.2.9")

    with pytest.raises(Throttled):
        password_reset_confirm(token="guess-3", password="whatever-it-is", client_ip="192.0.2.9")
    with pytest.raises(Throttled):
        password_reset_request(email="b@example.com", client_ip="192.0.2.9")
    password_reset_request(email="b@example.com", client_ip="192.0.2.10")


def test_purge_also_deletes_expired_reset_links():
    user_register(email="rita@example.com", password=PASSWORD, name="Rita")
    password_reset_request(email="rita@example.com")
    password_reset_request(email="rita@example.com")
    PasswordResetToken.objects.filter(pk=PasswordResetToken.objects.first().pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    services.refresh_tokens_purge()

    assert PasswordResetToken.objects.count() == 1
