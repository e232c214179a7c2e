"""JWT bearer authentication and role permissions shared by every service (RS256, keys from identity's JWKS)."""
import json
import logging
import threading
import time
import urllib.request
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from rest_framework import authentication, exceptions, permissions

from shopkit import defaults

log = logging.getLogger(__name__)

ALGORITHM = "RS256"  # the only algorithm accepted: `none` and HS256 (signed with the public key) are refused
ROLE_CUSTOMER = "customer"
ROLE_STAFF = "staff"
ROLES = (ROLE_CUSTOMER, ROLE_STAFF)


@dataclass(frozen=True)
class TokenUser:
    """The caller as the access token describes it; no database row behind it."""

    id: str
    email: str
    name: str
    role: str
    claims: dict

    is_authenticated = True
    is_anonymous = False

    @property
    def is_staff(self) -> bool:
        return self.role == ROLE_STAFF

    @property
    def pk(self) -> str:
        return self.id

    def __str__(self) -> str:
        return self.email


def jwt_settings() -> dict:
    """The ``SHOPKIT_JWT`` setting with its defaults (``shopkit.defaults.JWT``)."""
    return {**defaults.JWT, **getattr(settings, "SHOPKIT_JWT", {})}


class KeySet:
    """Public keys by ``kid``: pinned in settings, loaded by a callable, or fetched from the JWKS URL and cached.

    Verification never waits on identity for a key it already holds: when the cache goes stale, the keys at
    hand keep being used while one background thread refreshes them (a slow or absent identity service must
    not turn into 504s on every other service). Refreshes start at most once per JWKS_MIN_REFETCH_SECONDS,
    whether asked for by a stale cache or by an unknown ``kid`` (a flood of junk kids). Only a ``kid`` the
    cache does not hold (a fresh process, a rotated key) waits for that refresh, at most JWKS_WAIT_SECONDS:
    there is nothing to check its token with until then.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._keys: dict = {}
        self._fetched_at: float | None = None  # monotonic time of the last fetch that succeeded
        self._attempted_at: float | None = None  # … and of the last one started, successful or not
        self._refreshing: threading.Event | None = None  # set when the refresh under way ends
        self._generation = 0  # clear() moves it on: a refresh begun before does not write its keys

    def get(self, kid: str):
        conf = jwt_settings()
        pinned = conf["PUBLIC_KEYS"]
        if kid in pinned:
            return _load_public_key(pinned[kid])
        if conf["KEY_LOADER"]:
            return import_string(conf["KEY_LOADER"])().get(kid)
        if not conf["JWKS_URL"]:
            return None
        with self._lock:
            key = self._keys.get(kid)
            now = time.monotonic()
            stale = self._fetched_at is None or now - self._fetched_at > conf["JWKS_CACHE_SECONDS"]
            refresh = self._refreshing
            may_start = self._attempted_at is None or now - self._attempted_at >= conf["JWKS_MIN_REFETCH_SECONDS"]
            if (stale or key is None) and refresh is None and may_start:
                refresh = self._start_refresh(conf["JWKS_URL"], attempted_at=now)
        if key is None and refresh is not None:
            refresh.wait(conf["JWKS_WAIT_SECONDS"])
            with self._lock:
                key = self._keys.get(kid)
        return key

    def warm(self) -> None:
        """Start fetching the JWKS now, in the background, if nothing has been fetched yet (each web worker calls
        this as it starts): the first token then finds the keys at hand instead of waiting up to
        JWKS_WAIT_SECONDS for a fetch that may be slow while the deployment is still starting (a container DNS
        lookup lost as others start costs seconds). A warm-up that fails does not count against the refresh rate
        limit: identity may not be up yet, and the first request must still be free to fetch at once."""
        conf = jwt_settings()
        if not conf["JWKS_URL"] or conf["KEY_LOADER"]:
            return
        with self._lock:
            if self._fetched_at is None and self._refreshing is None:
                self._start_refresh(conf["JWKS_URL"], attempted_at=self._attempted_at)  # clock untouched

    def _start_refresh(self, url: str, attempted_at: float | None) -> threading.Event:
        """Called with the lock held: one thread fetches the JWKS; the returned event is set when it ends."""
        done = threading.Event()
        self._refreshing, self._attempted_at = done, attempted_at
        threading.Thread(target=self._refresh, args=(url, done, self._generation), name="jwks-refresh",
                         daemon=True).start()
        return done

    def _refresh(self, url: str, done: threading.Event, generation: int) -> None:
        keys = None
        try:
            keys = fetch_jwks(url)
        except (OSError, ValueError) as exc:
            # Keep the keys we had: identity being briefly down must not log everybody out.
            log.warning("jwks fetch failed", extra={"url": url, "error": str(exc)})
        except Exception:  # noqa: BLE001 - a bug here must not leave `done` unset; it is logged
            log.exception("jwks fetch failed", extra={"url": url})
        finally:
            with self._lock:
                if generation == self._generation:
                    if keys is not None:
                        self._keys, self._fetched_at = keys, time.monotonic()
                    self._refreshing = None
            done.set()

    def clear(self):
        with self._lock:
            self._keys, self._fetched_at, self._attempted_at, self._refreshing = {}, None, None, None
            self._generation += 1


def fetch_jwks(url: str) -> dict:
    """identity's public keys by ``kid``; raises OSError (unreachable, slow) or ValueError (not a JWKS)."""
    with urllib.request.urlopen(url, timeout=jwt_settings()["JWKS_TIMEOUT_SECONDS"]) as response:
        document = json.load(response)
    keys = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") == "RSA" and jwk.get("kid"):
            keys[jwk["kid"]] = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    return keys


def _load_public_key(pem):
    if not isinstance(pem, (str, bytes)):
        return pem
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)


KEYS = KeySet()


def _reset_keys(setting, **kwargs):
    if setting == "SHOPKIT_JWT":
        KEYS.clear()


setting_changed.connect(_reset_keys)


def decode_access_token(token: str) -> dict:
    """Verify an access token's signature, expiry, issuer and audience; return its claims.

    Raises AuthenticationFailed with a reason fit to show the caller.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise exceptions.AuthenticationFailed("Malformed token.") from None
    if header.get("alg") != ALGORITHM:
        raise exceptions.AuthenticationFailed(f"Token algorithm must be {ALGORITHM}.")
    kid = header.get("kid")
    key = KEYS.get(kid) if kid else None
    if key is None:
        raise exceptions.AuthenticationFailed("Token signed by an unknown key.")
    conf = jwt_settings()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=conf["AUDIENCE"],
            issuer=conf["ISSUER"],
            leeway=conf["LEEWAY_SECONDS"],
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise exceptions.AuthenticationFailed("Token expired.") from None
    except jwt.PyJWTError as exc:
        raise exceptions.AuthenticationFailed(f"Invalid token: {exc}.") from None
    if claims.get("typ", "access") != "access":
        raise exceptions.AuthenticationFailed("Not an access token.")
    if claims.get("role") not in ROLES:
        raise exceptions.AuthenticationFailed("Token carries no known role.")
    return claims


class JWTAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access JWT>`` → a TokenUser, checked offline against identity's public keys."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not token.strip():
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        claims = decode_access_token(token.strip())
        user = TokenUser(
            id=str(claims["sub"]),
            email=claims.get("email", ""),
            name=claims.get("name", ""),
            role=claims["role"],
            claims=claims,
        )
        return user, claims

    def authenticate_header(self, request):
        return f'{self.keyword} realm="shop"'


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


class IsSignedIn(permissions.BasePermission):
    message = "Sign in first."

    def has_permission(self, request, view):
        return _user(request) is not None


class IsCustomer(permissions.BasePermission):
    message = "Only customers may do this."

    def has_permission(self, request, view):
        user = _user(request)
        return user is not None and user.role == ROLE_CUSTOMER


class IsStaff(permissions.BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request, view):
        user = _user(request)
        return user is not None and user.role == ROLE_STAFF


class IsStaffOrReadOnly(permissions.BasePermission):
    message = "Only staff may change this."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = _user(request)
        return user is not None and user.role == ROLE_STAFF
