"""Encoding and decoding the JWTs identity issues: RS256, `kid` in the header, claims of DESIGN.md §5."""
import uuid
from datetime import datetime

import jwt
from django.conf import settings

from accounts.constants import TOKEN_ACCESS, TOKEN_REFRESH
from accounts.keys import public_keys, signing_key
from shopkit.auth import ALGORITHM, jwt_settings


class InvalidToken(Exception):
    """A refresh token that is not ours, not a refresh token, or expired; the message says which."""


def access_seconds() -> int:
    return settings.IDENTITY["ACCESS_SECONDS"]


def refresh_seconds() -> int:
    return settings.IDENTITY["REFRESH_SECONDS"]


def _issuer() -> str:
    return jwt_settings()["ISSUER"]


def _encode(claims: dict) -> str:
    key = signing_key()
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


def access_token_encode(*, user, now: datetime, jti: uuid.UUID | None = None) -> str:
    """An access token every service accepts: who the user is and their role, for ``access_seconds()``.
    ``jti`` defaults to a random one; the same user, time and jti always encode to the same token."""
    issued = int(now.timestamp())
    return _encode({
        "sub": str(user.id),
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "iss": _issuer(),
        "aud": jwt_settings()["AUDIENCE"],
        "iat": issued,
        "exp": issued + access_seconds(),
        "jti": str(jti or uuid.uuid4()),
        "typ": TOKEN_ACCESS,
    })


def refresh_token_encode(*, user_id, jti, now: datetime, expires_at: datetime) -> str:
    """A refresh token. Its audience is identity itself, so no other service would take it even without `typ`."""
    return _encode({
        "sub": str(user_id),
        "iss": _issuer(),
        "aud": _issuer(),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": str(jti),
        "typ": TOKEN_REFRESH,
    })


def refresh_token_decode(token: str, *, verify_expiry: bool = True) -> dict:
    """The claims of a refresh token identity signed with a key it still has. Raises InvalidToken.
    ``verify_expiry=False`` also accepts an expired one (signing out with it is harmless)."""
    if not isinstance(token, str) or not token:
        raise InvalidToken("Malformed token.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("Malformed token.") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"Token algorithm must be {ALGORITHM}.")
    key = public_keys().get(header.get("kid") or "")
    if key is None:
        raise InvalidToken("Token signed by an unknown key.")
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=_issuer(), issuer=_issuer(),
                            leeway=jwt_settings()["LEEWAY_SECONDS"],
                            options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"],
                                     "verify_exp": verify_expiry})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Refresh token expired.") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"Invalid token: {exc}.") from None
    if claims.get("typ") != TOKEN_REFRESH:
        raise InvalidToken("Not a refresh token.")
    try:
        uuid.UUID(str(claims["jti"]))
        uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise InvalidToken("Malformed token.") from None
    return claims
