"""Fixtures of identity's tests: a key folder per test, a quick Argon2, and identity trusting its own keys."""
import shutil

import pytest

PASSWORD = "correct-horse-battery-staple"


def grace_window_passes():
    """Move every exchanged refresh token's exchange back beyond the reuse grace window: a second use of one is
    then a stolen copy, not a twin tab."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import F

    from accounts.models import RefreshToken

    shift = timedelta(seconds=settings.IDENTITY["REFRESH_REUSE_GRACE_SECONDS"] + 1)
    RefreshToken.objects.filter(used_at__isnull=False).update(used_at=F("used_at") - shift)


@pytest.fixture(scope="session")
def key_folder_template(tmp_path_factory):
    """One generated key, copied into each test's folder: RSA generation is too slow to repeat per test."""
    from accounts.keys import FileKeyStore

    folder = tmp_path_factory.mktemp("keys-template") / "keys"
    FileKeyStore(folder).ring()
    return folder


@pytest.fixture(autouse=True)
def identity_settings(settings, tmp_path, key_folder_template):
    keys_dir = tmp_path / "keys"
    shutil.copytree(key_folder_template, keys_dir)
    settings.IDENTITY = {**settings.IDENTITY, "KEYS_DIR": str(keys_dir), "PRIVATE_KEY": "", "PRIVATE_KEY_ID": "",
                         "ACCESS_SECONDS": 900, "REFRESH_SECONDS": 7 * 24 * 3600,
                         "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5, "LOGIN_MAX_FAILURES_PER_CLIENT": 20,
                         "LOGIN_FAILURE_WINDOW_SECONDS": 900, "LOGIN_LOCKOUT_SECONDS": 300,
                         "TRUSTED_PROXY_HOPS": 1}
    # Argon2 with the smallest cost: the algorithm under test stays the same, the suite stays fast.
    settings.PASSWORD_HASHERS = ["accounts.tests.hashers.QuickArgon2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.IDENTITY


@pytest.fixture(autouse=True)
def trust_test_tokens(settings):
    """Replaces shopkit's fixture of the same name: identity's views trust identity's own keys, as deployed."""
    settings.SHOPKIT_JWT = {**settings.SHOPKIT_JWT, "PUBLIC_KEYS": {}, "JWKS_URL": "",
                            "KEY_LOADER": "accounts.keys.public_keys", "ISSUER": "shop-identity", "AUDIENCE": "shop"}


@pytest.fixture
def make_user(db):
    """Create an account through the service functions: ``make_user(email=..., role="staff")``."""
    from accounts.services import staff_ensure, user_register

    def make(*, email="alice@example.com", password=PASSWORD, name="Alice Example", role="customer"):
        if role == "staff":
            return staff_ensure(email=email, password=password, name=name)[0]
        return user_register(email=email, password=password, name=name)

    return make
