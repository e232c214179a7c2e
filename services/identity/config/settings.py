"""Settings of the identity service; the shared ones come from shopkit, all read from the environment."""
from pathlib import Path

from shopkit.conf import data_dir, env_int, env_str
from shopkit.settings import configure

# Identity verifies the access tokens it issued (for /me) against its own key store, not its own JWKS URL.
configure(__name__, service="identity", base_dir=Path(__file__).resolve().parent.parent, apps=["accounts"],
          jwt={"KEY_LOADER": "accounts.keys.public_keys"})

# Argon2 first: new hashes use it; older hashes are verified and upgraded on the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ["email", "name"]}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env_int("SHOP_PASSWORD_MIN_LENGTH", 8)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

IDENTITY = {
    "ACCESS_SECONDS": env_int("SHOP_JWT_ACCESS_SECONDS", 15 * 60),
    "REFRESH_SECONDS": env_int("SHOP_JWT_REFRESH_SECONDS", 7 * 24 * 3600),
    # A refresh token presented again this soon after it was exchanged gets the same new pair back (two tabs
    # refreshing at once); later, a second use revokes every token of that sign-in (a copy is in other hands).
    "REFRESH_REUSE_GRACE_SECONDS": env_int("SHOP_JWT_REFRESH_REUSE_GRACE_SECONDS", 10),
    "KEYS_DIR": env_str("SHOP_JWT_KEYS_DIR", "") or str(data_dir() / "keys"),
    "PRIVATE_KEY": env_str("SHOP_JWT_PRIVATE_KEY", ""),  # a PEM; when set, the key store on disk is not used
    "PRIVATE_KEY_ID": env_str("SHOP_JWT_PRIVATE_KEY_ID", ""),  # default: the key's RFC 7638 thumbprint
    # Failed sign-ins of one account *from one client address*: elsewhere its owner still gets in.
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": env_int("SHOP_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
    "LOGIN_MAX_FAILURES_PER_CLIENT": env_int("SHOP_LOGIN_MAX_FAILURES_PER_CLIENT", 20),
    "LOGIN_FAILURE_WINDOW_SECONDS": env_int("SHOP_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60),
    "LOGIN_LOCKOUT_SECONDS": env_int("SHOP_LOGIN_LOCKOUT_SECONDS", 5 * 60),
    "PASSWORD_RESET_SECONDS": env_int("SHOP_PASSWORD_RESET_SECONDS", 3600),  # a reset link's life
    "PASSWORD_RESET_MAX_PER_ACCOUNT": env_int("SHOP_PASSWORD_RESET_MAX_PER_ACCOUNT", 3),
    "PASSWORD_RESET_MAX_PER_CLIENT": env_int("SHOP_PASSWORD_RESET_MAX_PER_CLIENT", 10),
    "PASSWORD_RESET_WINDOW_SECONDS": env_int("SHOP_PASSWORD_RESET_WINDOW_SECONDS", 15 * 60),
    # Proxies in front of this service that append to X-Forwarded-For (the gateway: 1); 0 ignores the header.
    "TRUSTED_PROXY_HOPS": env_int("SHOP_TRUSTED_PROXY_HOPS", 1),
}
