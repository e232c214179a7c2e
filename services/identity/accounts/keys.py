"""The RSA keys that sign tokens: made on first use in ``$SHOP_DATA_DIR/keys`` (or given by the environment),
rotated and retired by management commands, and published as a JWKS.

On disk each key is ``<kid>.pem`` (PKCS#8, mode 0600) and ``current`` names the one that signs; every other
``.pem`` still verifies until it is retired. Several web processes share the folder: writers hold an
exclusive ``flock`` and replace files atomically, so readers only ever see whole files. Each process caches
the parsed keys and reloads them when the folder's listing or ``current`` changes, so a rotation done by a
command is picked up by running workers on their next request.
"""
import base64
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shopkit.auth import ALGORITHM

KEY_SIZE = 2048
CURRENT_FILE = "current"
LOCK_FILE = ".lock"
KEY_SUFFIX = ".pem"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")  # also keeps a kid given on the command line inside the folder


class KeyStoreError(Exception):
    """A rotation or retirement that cannot be done; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class KeyRing:
    signer: SigningKey
    keys: dict[str, SigningKey]  # every key that verifies, the signer included


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint: the same key always gets the same kid, wherever it is loaded."""
    numbers = public_key.public_numbers()
    members = {"e": _b64_int(numbers.e), "kty": "RSA", "n": _b64_int(numbers.n)}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return _b64(digest)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64_int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _identity_settings() -> dict:
    return settings.IDENTITY


# -- the store on disk -------------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple, KeyRing]] = {}  # folder -> (what the folder looked like, the keys parsed from it)


class FileKeyStore:
    """Keys in one folder, shared by every process of the service on this machine (or volume)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def ring(self) -> KeyRing:
        state = self._state()
        if state is None:
            self._initialize()
            state = self._state()
        with _cache_lock:
            cached = _cache.get(str(self.directory))
            if cached and cached[0] == state:
                return cached[1]
        ring = self._load(state)
        with _cache_lock:
            _cache[str(self.directory)] = (state, ring)
        return ring

    def rotate(self) -> SigningKey:
        """Make a new key the signer; the keys before it keep verifying until retired."""
        self.ring()  # a first rotation on an empty folder still leaves the first key behind to verify
        with self._locked():
            key = self._generate()
            self._write(self.directory / CURRENT_FILE, key.kid.encode())
        return key

    def retire(self, kid: str) -> None:
        """Remove a key: tokens it signed stop verifying. The signer cannot be retired (rotate first)."""
        if not _KID.match(kid):
            raise KeyStoreError(f"{kid!r} is not a key id")
        with self._locked():
            if self._current() == kid:
                raise KeyStoreError(f"{kid} is the signing key; rotate to a new key before retiring it")
            path = self.directory / f"{kid}{KEY_SUFFIX}"
            if not path.exists():
                raise KeyStoreError(f"no key {kid} in {self.directory}")
            path.unlink()

    def _state(self) -> tuple | None:
        """What the folder holds now (the key files and the signer's kid), or None before the first key."""
        current = self._current()
        if current is None:
            return None
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return None
        kids = tuple(sorted(n[: -len(KEY_SUFFIX)] for n in names if n.endswith(KEY_SUFFIX) and _KID.match(
            n[: -len(KEY_SUFFIX)])))
        return current, kids

    def _current(self) -> str | None:
        try:
            return (self.directory / CURRENT_FILE).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _load(self, state: tuple) -> KeyRing:
        current, kids = state
        keys = {}
        for kid in kids:
            try:
                data = (self.directory / f"{kid}{KEY_SUFFIX}").read_bytes()
            except FileNotFoundError:
                continue  # retired between the listing and now
            keys[kid] = SigningKey(kid, serialization.load_pem_private_key(data, password=None))
        if current not in keys:
            raise ImproperlyConfigured(f"signing key {current} named in {self.directory / CURRENT_FILE} is missing")
        return KeyRing(signer=keys[current], keys=keys)

    def _initialize(self) -> None:
        with self._locked():
            if self._current() is not None:
                return  # another process made the first key while this one waited for the lock
            key = self._generate()
            self._write(self.directory / CURRENT_FILE, key.kid.encode())

    def _generate(self) -> SigningKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        key = SigningKey(key_id(private_key.public_key()), private_key)
        pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        self._write(self.directory / f"{key.kid}{KEY_SUFFIX}", pem)
        return key

    def _write(self, path: Path, data: bytes) -> None:
        """Replace ``path`` in one step, readable by the owner only; a crash leaves the old file or the new."""
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self):
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


# -- a key given by the environment ------------------------------------------------------------------------

class EnvironmentKeyStore:
    """One key from ``SHOP_JWT_PRIVATE_KEY``: the deployment owns it, so rotation happens there."""

    _parsed: dict[tuple[str, str], KeyRing] = {}

    def __init__(self, pem: str, kid: str = ""):
        self.pem = pem.replace("\\n", "\n")  # env files often carry a PEM on one line with literal \n
        self.kid = kid

    def ring(self) -> KeyRing:
        cache_key = (self.pem, self.kid)
        ring = self._parsed.get(cache_key)
        if ring is None:
            try:
                private_key = serialization.load_pem_private_key(self.pem.encode(), password=None)
            except ValueError as exc:
                raise ImproperlyConfigured(f"SHOP_JWT_PRIVATE_KEY is not a PEM private key: {exc}") from None
            if not isinstance(private_key, rsa.RSAPrivateKey):
                raise ImproperlyConfigured("SHOP_JWT_PRIVATE_KEY must be an RSA key (tokens are RS256)")
            key = SigningKey(self.kid or key_id(private_key.public_key()), private_key)
            ring = self._parsed[cache_key] = KeyRing(signer=key, keys={key.kid: key})
        return ring

    def rotate(self) -> SigningKey:
        raise KeyStoreError("the signing key comes from SHOP_JWT_PRIVATE_KEY; rotate it there")

    def retire(self, kid: str) -> None:
        raise KeyStoreError("the signing key comes from SHOP_JWT_PRIVATE_KEY; it cannot be retired here")


def key_store() -> FileKeyStore | EnvironmentKeyStore:
    conf = _identity_settings()
    if conf.get("PRIVATE_KEY"):
        return EnvironmentKeyStore(conf["PRIVATE_KEY"], conf.get("PRIVATE_KEY_ID", ""))
    return FileKeyStore(Path(conf["KEYS_DIR"]))


# -- what the rest of the service uses ---------------------------------------------------------------------

def signing_key() -> SigningKey:
    """The key new tokens are signed with (made on first use)."""
    return key_store().ring().signer


def public_keys() -> dict[str, rsa.RSAPublicKey]:
    """Every key that verifies, by kid: shopkit's ``SHOPKIT_JWT['KEY_LOADER']`` for identity's own views."""
    return {kid: key.public_key for kid, key in key_store().ring().keys.items()}


def jwks() -> dict:
    """The public keys as a JSON Web Key Set, the signer first."""
    ring = key_store().ring()
    ordered = [ring.signer] + [key for kid, key in sorted(ring.keys.items()) if kid != ring.signer.kid]
    return {"keys": [_jwk(key) for key in ordered]}


def _jwk(key: SigningKey) -> dict:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key, as_dict=True)
    return {**jwk, "kid": key.kid, "use": "sig", "alg": ALGORITHM}


def signing_key_rotate() -> SigningKey:
    """Make a new signing key; the previous ones stay in the JWKS and keep verifying. Raises KeyStoreError."""
    return key_store().rotate()


def signing_key_retire(*, kid: str) -> None:
    """Remove a key that no longer signs; tokens it signed become 401. Raises KeyStoreError."""
    key_store().retire(kid)


def signing_keys_describe() -> list[dict]:
    """Each key's kid and whether it signs, for the list command."""
    ring = key_store().ring()
    return [{"kid": kid, "signing": kid == ring.signer.kid} for kid in sorted(ring.keys)]
