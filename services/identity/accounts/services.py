"""Writes of identity: registering users and staff, signing in, refreshing tokens, counting failed sign-ins."""
import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.constants import EMAIL_MAX_LENGTH, THROTTLE_ACCOUNT, THROTTLE_CLIENT
from accounts.models import LoginThrottle, RefreshToken, User
from accounts.tokens import (
    InvalidToken,
    access_seconds,
    access_token_encode,
    refresh_seconds,
    refresh_token_decode,
    refresh_token_encode,
)
from shopkit import events
from shopkit.auth import ROLE_CUSTOMER, ROLE_STAFF
from shopkit.messaging.outbox import emit
from shopkit.problems import ApplicationError, Conflict


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int  # seconds the access token lives
    refresh_expires_in: int


class LoginThrottled(ApplicationError):
    """Too many failed sign-ins for this account or from this client; ``retry_after`` seconds until the next try."""

    def __init__(self, retry_after: int):
        super().__init__("Too many failed sign-ins; try again later.", status=429, code="login-throttled",
                         extra={"retry_after": retry_after})
        self.retry_after = retry_after


def _unauthorized(detail: str, code: str) -> ApplicationError:
    return ApplicationError(detail, status=401, code=code)


def email_normalize(email: str) -> str:
    """The form an email is stored and looked up in: logins are case-insensitive."""
    return email.strip().lower()


# -- accounts ----------------------------------------------------------------------------------------------

def user_register(*, email: str, password: str, name: str) -> User:
    """Create a customer account; emits ``user.registered`` in the same transaction.

    Fails with 400 (``errors.password``) when Django's password validators reject the password, 409 when the
    email already has an account.
    """
    user = User(email=email_normalize(email), name=name.strip(), role=ROLE_CUSTOMER)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ApplicationError("The password is too weak.", status=400, code="validation",
                               errors={"password": list(exc.messages)}) from None
    return _user_create(user=user, password=password)


def staff_ensure(*, email: str, password: str, name: str = "") -> tuple[User, bool]:
    """Make sure a staff account exists for ``email``: create it (emits ``user.registered``), or promote and
    re-enable the existing account, leaving its password alone. Returns the user and whether it was created.

    Password validators are not applied: this is an operator's command (the dev default is ``admin``).
    """
    email = email_normalize(email)
    if not password:
        raise ApplicationError("A password is required.", status=400, code="validation",
                               errors={"password": ["This field may not be blank."]})
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email=email).first()
        if existing is not None:
            if existing.role != ROLE_STAFF or not existing.is_active:
                existing.role, existing.is_active = ROLE_STAFF, True
                existing.save(update_fields=["role", "is_active", "updated_at"])
            return existing, False
    user = User(email=email, name=(name.strip() or email.split("@")[0]), role=ROLE_STAFF)
    return _user_create(user=user, password=password), True


def _user_create(*, user: User, password: str) -> User:
    _check_email(user.email)
    user.set_password(password)  # hashed before the transaction: Argon2 is slow on purpose, locks should not be
    try:
        with transaction.atomic():
            if User.objects.filter(email=user.email).exists():
                raise _email_taken()
            user.save(force_insert=True)
            emit(events.USER_REGISTERED, {"user_id": str(user.id), "email": user.email, "name": user.name},
                 subject=str(user.id))
    except IntegrityError:
        raise _email_taken() from None  # a concurrent registration of the same email won the race
    return user


def _check_email(email: str) -> None:
    try:
        validate_email(email)
        if len(email) > EMAIL_MAX_LENGTH:
            raise DjangoValidationError("Too long.")
    except DjangoValidationError:
        raise ApplicationError("The email address is not valid.", status=400, code="validation",
                               errors={"email": ["Enter a valid email address."]}) from None


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists.", code="email-taken")


# -- signing in --------------------------------------------------------------------------------------------

def token_obtain(*, email: str, password: str, client_ip: str = "") -> TokenPair:
    """Sign in: a fresh access and refresh token for the right email and password.

    Fails with 429 (LoginThrottled) while the account or the client is locked out after repeated failures,
    and with 401 for a wrong email or password (the same answer for both, so it tells no one which emails
    have accounts). A failure is counted in its own committed transaction.
    """
    now = timezone.now()
    email = email_normalize(email)
    account_key = _throttle_key(THROTTLE_ACCOUNT, email)
    counters = [(THROTTLE_ACCOUNT, account_key)]
    if client_ip:
        counters.append((THROTTLE_CLIENT, _throttle_key(THROTTLE_CLIENT, client_ip)))
    login_throttle_check(keys=[key for _, key in counters], now=now)

    user = User.objects.filter(email=email).first()
    if user is None:
        make_password(password)  # the work a real check does, so timing does not reveal unknown emails
    if user is None or not user.check_password(password) or not user.is_active:
        login_failure_record(counters=counters, now=now)
        raise _unauthorized("Email or password is wrong.", "invalid-credentials")

    with transaction.atomic():
        LoginThrottle.objects.filter(key=account_key).delete()
        User.objects.filter(pk=user.pk).update(last_login_at=now)
        return _token_pair_issue(user=user, family=uuid.uuid4(), now=now)


def token_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the one presented is spent.

    Fails with 401 for a token that is invalid, expired, revoked, or already spent. Presenting a spent token
    means a copy exists somewhere: every token descended from the same sign-in is revoked too.
    """
    try:
        claims = refresh_token_decode(refresh)
    except InvalidToken as exc:
        raise _unauthorized(str(exc), "invalid-token") from None
    now = timezone.now()
    failure = None
    with transaction.atomic():
        record = RefreshToken.objects.select_for_update().filter(jti=claims["jti"]).first()
        user = User.objects.filter(pk=record.user_id).first() if record is not None else None
        if record is None or user is None or str(record.user_id) != str(claims["sub"]):
            failure = "Unknown refresh token."
        elif record.revoked_at is not None:
            failure = "Refresh token revoked."
        elif record.used_at is not None:
            RefreshToken.objects.filter(family=record.family, revoked_at__isnull=True).update(revoked_at=now)
            failure = "Refresh token already used; every session token of this sign-in is now revoked."
        elif not user.is_active:
            failure = "The account is disabled."
        else:
            record.used_at = now
            record.save(update_fields=["used_at"])
            pair = _token_pair_issue(user=user, family=record.family, now=now)
    if failure:  # raised after the block, so a family revocation is committed, not rolled back
        raise _unauthorized(failure, "invalid-token")
    return pair


def _token_pair_issue(*, user: User, family: uuid.UUID, now: datetime) -> TokenPair:
    jti = uuid.uuid4()
    expires_at = now + timedelta(seconds=refresh_seconds())
    RefreshToken.objects.create(jti=jti, user=user, family=family, issued_at=now, expires_at=expires_at)
    return TokenPair(
        access=access_token_encode(user=user, now=now),
        refresh=refresh_token_encode(user_id=user.id, jti=jti, now=now, expires_at=expires_at),
        expires_in=access_seconds(),
        refresh_expires_in=refresh_seconds(),
    )


def refresh_tokens_purge(*, now: datetime | None = None) -> int:
    """Delete refresh tokens past their expiry and spent throttle counters; returns how many tokens went."""
    now = now or timezone.now()
    with transaction.atomic():
        deleted, _ = RefreshToken.objects.filter(expires_at__lt=now).delete()
        LoginThrottle.objects.filter(expires_at__lt=now).delete()
    return deleted


# -- login throttling --------------------------------------------------------------------------------------

def _throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


def _throttle_settings() -> dict:
    conf = settings.IDENTITY
    return {
        "limits": {THROTTLE_ACCOUNT: conf["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                   THROTTLE_CLIENT: conf["LOGIN_MAX_FAILURES_PER_CLIENT"]},
        "window": timedelta(seconds=conf["LOGIN_FAILURE_WINDOW_SECONDS"]),
        "lockout": timedelta(seconds=conf["LOGIN_LOCKOUT_SECONDS"]),
    }


def login_throttle_check(*, keys: list[str], now: datetime) -> None:
    """Raise LoginThrottled when any of ``keys`` is locked out at ``now``."""
    locked = LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now).values_list("locked_until", flat=True)
    if locked:
        raise LoginThrottled(retry_after=max(1, math.ceil((max(locked) - now).total_seconds())))


def login_failure_record(*, counters: list[tuple[str, str]], now: datetime) -> None:
    """Count one failed sign-in against each ``(scope, key)``; the failure that reaches a scope's limit
    locks it out for the lockout period. Counts older than the window start again from zero."""
    conf = _throttle_settings()
    with transaction.atomic():
        LoginThrottle.objects.filter(expires_at__lt=now).delete()
        for scope, key in sorted(counters, key=lambda c: c[1]):  # one lock order, so two failures can't deadlock
            row, _ = LoginThrottle.objects.select_for_update().get_or_create(
                key=key, defaults={"scope": scope, "window_started_at": now, "expires_at": now + conf["window"]})
            lock_over = row.locked_until is not None and row.locked_until <= now
            if lock_over or row.window_started_at + conf["window"] <= now:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= conf["limits"][scope]:
                row.locked_until = now + conf["lockout"]
            row.expires_at = max(row.window_started_at + conf["window"], row.locked_until or now)
            row.save()
