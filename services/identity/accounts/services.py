"""Writes of identity: registering users and staff, signing in and out, refreshing tokens, resetting passwords,
and the throttle counters that bound guessing."""
import hashlib
import math
import secrets
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

from accounts.constants import (
    EMAIL_MAX_LENGTH,
    PASSWORD_RESET_PAGE,
    PASSWORD_RESET_TOKEN_BYTES,
    THROTTLE_ACCOUNT_CLIENT,
    THROTTLE_CLIENT,
    THROTTLE_RESET_ACCOUNT,
    THROTTLE_RESET_CLIENT,
)
from accounts.models import LoginThrottle, PasswordResetToken, RefreshToken, User
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
from shopkit.logging import get_logger
from shopkit.messaging.outbox import emit
from shopkit.problems import ApplicationError, Conflict

log = get_logger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int  # seconds the access token lives
    refresh_expires_in: int


class Throttled(ApplicationError):
    """Too many attempts for this account or from this client; ``retry_after`` seconds until the next try.

    A 429 problem with a ``Retry-After`` header, rendered by shopkit's one exception handler."""

    def __init__(self, retry_after: int, *, detail: str = "Too many failed sign-ins; try again later.",
                 code: str = "login-throttled"):
        super().__init__(detail, status=429, code=code, extra={"retry_after": retry_after},
                         headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def _unauthorized(detail: str, code: str) -> ApplicationError:
    return ApplicationError(detail, status=401, code=code)


def _weak_password(exc: DjangoValidationError) -> ApplicationError:
    return ApplicationError("The password is too weak.", status=400, code="validation",
                            errors={"password": list(exc.messages)})


def email_normalize(email: str) -> str:
    """The form an email is stored and looked up in: logins are case-insensitive."""
    return email.strip().lower()


# -- accounts ----------------------------------------------------------------------------------------------

def user_register(*, email: str, password: str, name: str) -> User:
    """Create a customer account; emits ``user.registered`` in the same transaction.

    Fails with 400 (``errors.password``) when Django's password validators reject the password, 409 when the
    email already has an account. The email is looked up before the password is hashed: a taken email costs
    no Argon2 work (the 409 says the email is taken anyway, so answering it sooner reveals nothing more).
    """
    user = User(email=email_normalize(email), name=name.strip(), role=ROLE_CUSTOMER)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise _weak_password(exc) from None
    return _user_create(user=user, password=password)


def staff_ensure(*, email: str, password: str, name: str = "") -> tuple[User, bool]:
    """Make sure a staff account exists for ``email``: create it (emits ``user.registered``) when no account
    has that email. An existing account is left exactly as it is: never promoted, re-enabled or given the
    password — whoever registered the address first must not become staff. Returns the account found or made
    and whether it was created; the caller checks ``role`` to tell a staff account from a squatted address.

    Password validators are not applied: this is an operator's command (the dev default is ``admin``).
    """
    email = email_normalize(email)
    if not password:
        raise ApplicationError("A password is required.", status=400, code="validation",
                               errors={"password": ["This field may not be blank."]})
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing, False
    user = User(email=email, name=(name.strip() or email.split("@")[0]), role=ROLE_STAFF)
    try:
        return _user_create(user=user, password=password), True
    except Conflict:  # created in between (two launchers at once): that account is the answer, as above
        return User.objects.get(email=email), False


def _user_create(*, user: User, password: str) -> User:
    _check_email(user.email)
    if User.objects.filter(email=user.email).exists():
        raise _email_taken()
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


# -- signing in and out --------------------------------------------------------------------------------------

def token_obtain(*, email: str, password: str, client_ip: str = "") -> TokenPair:
    """Sign in: a fresh access and refresh token for the right email and password.

    Fails with 429 (Throttled) while this account is locked out *for this client address*, or the address is
    locked out altogether, after repeated failures; and with 401 for a wrong email or password (the same answer
    for both, so it tells no one which emails have accounts). A failure is counted in its own committed
    transaction. The account is never locked for everyone: guesses from one address do not keep its owner,
    signing in from another, out.
    """
    now = timezone.now()
    email = email_normalize(email)
    pair_key = _throttle_key(THROTTLE_ACCOUNT_CLIENT, f"{email} {client_ip}")
    counters = [(THROTTLE_ACCOUNT_CLIENT, pair_key)]
    if client_ip:
        counters.append((THROTTLE_CLIENT, _throttle_key(THROTTLE_CLIENT, client_ip)))
    throttle_check(keys=[key for _, key in counters], now=now)

    user = User.objects.filter(email=email).first()
    if user is None:
        make_password(password)  # the work a real check does, so timing does not reveal unknown emails
    if user is None or not user.check_password(password) or not user.is_active:
        throttle_count(counters=counters, now=now)
        raise _unauthorized("Email or password is wrong.", "invalid-credentials")

    with transaction.atomic():
        LoginThrottle.objects.filter(key=pair_key).delete()
        User.objects.filter(pk=user.pk).update(last_login_at=now)
        record = _refresh_token_create(user=user, family=uuid.uuid4(), now=now)
        return _token_pair_of(user=user, record=record, now=now)


def token_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the one presented is spent.

    A spent token presented again within ``REFRESH_REUSE_GRACE_SECONDS`` of its exchange answers with the
    very pair it was exchanged for (two tabs refreshed at once; nothing new is issued). Later, presenting it
    means a copy exists somewhere: every token descended from the same sign-in is revoked and the answer is
    401. Also 401 for a token that is invalid, expired, revoked, or of a disabled account.
    """
    try:
        claims = refresh_token_decode(refresh)
    except InvalidToken as exc:
        raise _unauthorized(str(exc), "invalid-token") from None
    now = timezone.now()
    grace = timedelta(seconds=settings.IDENTITY["REFRESH_REUSE_GRACE_SECONDS"])
    failure = None
    with transaction.atomic():
        record = RefreshToken.objects.select_for_update().filter(jti=claims["jti"]).first()
        user = User.objects.filter(pk=record.user_id).first() if record is not None else None
        if record is None or user is None or str(record.user_id) != str(claims["sub"]):
            failure = "Unknown refresh token."
        elif record.revoked_at is not None:
            failure = "Refresh token revoked."
        elif not user.is_active:
            failure = "The account is disabled."
        elif record.used_at is not None:
            successor = None
            if record.replaced_by is not None and now - record.used_at <= grace:
                successor = RefreshToken.objects.filter(jti=record.replaced_by, revoked_at__isnull=True).first()
            if successor is not None:
                pair = _token_pair_of(user=user, record=successor, now=now)
            else:
                RefreshToken.objects.filter(family=record.family, revoked_at__isnull=True).update(revoked_at=now)
                failure = "Refresh token already used; every session token of this sign-in is now revoked."
        else:
            successor = _refresh_token_create(user=user, family=record.family, now=now)
            pair = _token_pair_of(user=user, record=successor, now=now)
            record.used_at, record.replaced_by = now, successor.jti
            record.save(update_fields=["used_at", "replaced_by"])
    if failure:  # raised after the block, so a family revocation is committed, not rolled back
        raise _unauthorized(failure, "invalid-token")
    return pair


def token_logout(*, refresh: str) -> None:
    """Sign out: revoke every refresh token of the sign-in ``refresh`` belongs to, so none of them refreshes
    again (access tokens already out live on until they expire, at most ``ACCESS_SECONDS``).

    Idempotent: a token of a sign-in that is already revoked, spent, expired or purged is fine. Fails with 401
    only for a token identity did not sign (forged, tampered, an access token, a retired key).
    """
    try:
        claims = refresh_token_decode(refresh, verify_expiry=False)
    except InvalidToken as exc:
        raise _unauthorized(str(exc), "invalid-token") from None
    now = timezone.now()
    with transaction.atomic():
        record = RefreshToken.objects.filter(jti=claims["jti"], user_id=claims["sub"]).first()
        if record is not None:
            revoked = RefreshToken.objects.filter(family=record.family, revoked_at__isnull=True).update(
                revoked_at=now)
            log.info("signed out", user_id=str(record.user_id), revoked_tokens=revoked)


def _refresh_token_create(*, user: User, family: uuid.UUID, now: datetime) -> RefreshToken:
    return RefreshToken.objects.create(jti=uuid.uuid4(), user=user, family=family, issued_at=now,
                                       expires_at=now + timedelta(seconds=refresh_seconds()))


def _token_pair_of(*, user: User, record: RefreshToken, now: datetime) -> TokenPair:
    """The pair issued with ``record``. Everything in both tokens follows from the record (the access token's
    jti is derived from the refresh token's) and RS256 signatures are deterministic, so encoding them again
    gives the same strings: that is how a concurrent refresh gets the pair its twin got."""
    access_lifetime = access_seconds()
    return TokenPair(
        access=access_token_encode(user=user, now=record.issued_at, jti=uuid.uuid5(record.jti, "access")),
        refresh=refresh_token_encode(user_id=user.id, jti=record.jti, now=record.issued_at,
                                     expires_at=record.expires_at),
        expires_in=max(0, access_lifetime - int((now - record.issued_at).total_seconds())),
        refresh_expires_in=max(0, int((record.expires_at - now).total_seconds())),
    )


def refresh_tokens_purge(*, now: datetime | None = None) -> int:
    """Delete refresh tokens and reset links past their expiry and spent throttle counters; returns how many
    refresh tokens went."""
    now = now or timezone.now()
    with transaction.atomic():
        deleted, _ = RefreshToken.objects.filter(expires_at__lt=now).delete()
        PasswordResetToken.objects.filter(expires_at__lt=now).delete()
        LoginThrottle.objects.filter(expires_at__lt=now).delete()
    return deleted


# -- password reset ------------------------------------------------------------------------------------------

def _reset_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_reset_request(*, email: str, client_ip: str = "") -> None:
    """Someone asks for a reset link for ``email``. For an active account: a one-time token (stored as its
    SHA-256) valid ``PASSWORD_RESET_SECONDS``, and ``user.password_reset_requested`` with the link, in one
    transaction. For an unknown or disabled address: nothing, and the caller answers the same (no enumeration);
    both branches make a token and hash it, and both count against the limits, so they cost about the same.

    Fails with 429 (Throttled) after ``PASSWORD_RESET_MAX_PER_ACCOUNT`` requests for one address or
    ``PASSWORD_RESET_MAX_PER_CLIENT`` from one client within ``PASSWORD_RESET_WINDOW_SECONDS``.
    """
    now = timezone.now()
    email = email_normalize(email)
    counters = [(THROTTLE_RESET_ACCOUNT, _throttle_key(THROTTLE_RESET_ACCOUNT, email))]
    if client_ip:
        counters.append((THROTTLE_RESET_CLIENT, _throttle_key(THROTTLE_RESET_CLIENT, client_ip)))
    keys = [key for _, key in counters]
    throttle_check(keys=keys, now=now, throttled=_reset_throttled)
    throttle_count(counters=counters, now=now)

    token = secrets.token_urlsafe(PASSWORD_RESET_TOKEN_BYTES)
    digest = _reset_token_digest(token)
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        log.info("password reset requested for no active account")
        return
    expires_at = now + timedelta(seconds=settings.IDENTITY["PASSWORD_RESET_SECONDS"])
    with transaction.atomic():
        PasswordResetToken.objects.create(token_hash=digest, user=user, created_at=now, expires_at=expires_at)
        emit(events.USER_PASSWORD_RESET_REQUESTED, {
            "user_id": str(user.id), "email": user.email, "name": user.name,
            "reset_url": f"{settings.SHOP_PUBLIC_URL}{PASSWORD_RESET_PAGE}#token={token}",
            "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
        }, subject=str(user.id))
    log.info("password reset requested", user_id=str(user.id))


def password_reset_confirm(*, token: str, password: str, client_ip: str = "") -> User:
    """Set a new password with a reset token: the token and every other unused one of the account are spent,
    and every refresh token of the account is revoked (every sign-in ends; access tokens live on until they
    expire). Returns the account.

    Fails with 400 ``invalid-reset-token`` for an unknown, used or expired token (each failure counts against
    the client's reset limit, 429 when exhausted), and 400 ``errors.password`` for a weak password, which
    leaves the token usable.
    """
    now = timezone.now()
    client_counters = [(THROTTLE_RESET_CLIENT, _throttle_key(THROTTLE_RESET_CLIENT, client_ip))] if client_ip else []
    throttle_check(keys=[key for _, key in client_counters], now=now, throttled=_reset_throttled)
    digest = _reset_token_digest(token)
    record = PasswordResetToken.objects.select_related("user").filter(token_hash=digest).first()
    if record is None or record.used_at is not None or record.expires_at <= now or not record.user.is_active:
        throttle_count(counters=client_counters, now=now)
        raise _invalid_reset_token()
    user = record.user
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise _weak_password(exc) from None
    user.set_password(password)  # hashed before the transaction, as at registration
    with transaction.atomic():
        spent = PasswordResetToken.objects.filter(pk=digest, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now)
        if not spent:  # a concurrent confirm with the same token won
            raise _invalid_reset_token()
        PasswordResetToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        User.objects.filter(pk=user.pk).update(password=user.password, updated_at=now)
        revoked = RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    log.info("password reset", user_id=str(user.id), revoked_tokens=revoked)
    return user


def _invalid_reset_token() -> ApplicationError:
    return ApplicationError("This reset link is unknown, already used or expired; ask for a new one.",
                            status=400, code="invalid-reset-token", errors={"token": ["Invalid or expired."]})


def _reset_throttled(retry_after: int) -> Throttled:
    return Throttled(retry_after, detail="Too many password reset attempts; try again later.",
                     code="password-reset-throttled")


# -- throttling ----------------------------------------------------------------------------------------------

def _throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


@dataclass(frozen=True)
class ThrottleRule:
    limit: int  # the limit-th counted attempt within the window locks the key
    window: timedelta
    lockout: timedelta


def _throttle_rules() -> dict[str, ThrottleRule]:
    conf = settings.IDENTITY
    login_window = timedelta(seconds=conf["LOGIN_FAILURE_WINDOW_SECONDS"])
    login_lockout = timedelta(seconds=conf["LOGIN_LOCKOUT_SECONDS"])
    reset_window = timedelta(seconds=conf["PASSWORD_RESET_WINDOW_SECONDS"])
    return {
        THROTTLE_ACCOUNT_CLIENT: ThrottleRule(conf["LOGIN_MAX_FAILURES_PER_ACCOUNT"], login_window, login_lockout),
        THROTTLE_CLIENT: ThrottleRule(conf["LOGIN_MAX_FAILURES_PER_CLIENT"], login_window, login_lockout),
        THROTTLE_RESET_ACCOUNT: ThrottleRule(conf["PASSWORD_RESET_MAX_PER_ACCOUNT"], reset_window, reset_window),
        THROTTLE_RESET_CLIENT: ThrottleRule(conf["PASSWORD_RESET_MAX_PER_CLIENT"], reset_window, reset_window),
    }


def throttle_check(*, keys: list[str], now: datetime, throttled=Throttled) -> None:
    """Raise ``throttled(retry_after)`` (a 429) when any of ``keys`` is locked out at ``now``."""
    locked = LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now).values_list("locked_until", flat=True)
    if locked:
        raise throttled(max(1, math.ceil((max(locked) - now).total_seconds())))


def throttle_count(*, counters: list[tuple[str, str]], now: datetime) -> None:
    """Count one attempt against each ``(scope, key)``; the attempt that reaches a scope's limit locks it out
    for the scope's lockout period. Counts older than the window start again from zero."""
    rules = _throttle_rules()
    with transaction.atomic():
        LoginThrottle.objects.filter(expires_at__lt=now).delete()
        for scope, key in sorted(counters, key=lambda c: c[1]):  # one lock order, so two failures can't deadlock
            rule = rules[scope]
            row, _ = LoginThrottle.objects.select_for_update().get_or_create(
                key=key, defaults={"scope": scope, "window_started_at": now, "expires_at": now + rule.window})
            lock_over = row.locked_until is not None and row.locked_until <= now
            if lock_over or row.window_started_at + rule.window <= now:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= rule.limit:
                row.locked_until = now + rule.lockout
            row.expires_at = max(row.window_started_at + rule.window, row.locked_until or now)
            row.save()
