"""The signing key store: first-use generation, rotation, retirement, keys from the environment."""
import multiprocessing
import stat
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts import keys
from accounts.keys import FileKeyStore, KeyStoreError


@pytest.fixture
def empty_keys_dir(identity_settings, tmp_path):
    folder = tmp_path / "fresh" / "keys"
    identity_settings["KEYS_DIR"] = str(folder)
    return folder


def test_the_first_use_makes_a_key_readable_by_the_owner_only(empty_keys_dir):
    key = keys.signing_key()

    pem = empty_keys_dir / f"{key.kid}.pem"
    assert pem.exists() and (empty_keys_dir / "current").read_text() == key.kid
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert keys.signing_key().kid == key.kid  # the second use finds it


def test_the_kid_is_the_rfc7638_thumbprint():
    # RFC 7638 §3.1 example key and thumbprint.
    n = int.from_bytes(jwt.utils.base64url_decode(
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
        "hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6"
        "qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8aw"
        "apJzKnqDKgw"), "big")
    assert keys.key_id(rsa.RSAPublicNumbers(65537, n).public_key()) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _first_use(folder, barrier, results):
    barrier.wait()  # every process reaches the empty folder at the same moment
    results.put(FileKeyStore(folder).ring().signer.kid)


def test_concurrent_first_use_by_several_processes_makes_one_key(empty_keys_dir):
    context = multiprocessing.get_context("fork")  # children inherit the imports: the race starts at once
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_first_use, args=(empty_keys_dir, barrier, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    kids = {results.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(30)

    assert all(worker.exitcode == 0 for worker in workers)
    assert len(kids) == 1
    assert len(list(empty_keys_dir.glob("*.pem"))) == 1


def test_rotation_makes_a_new_signer_and_keeps_the_old_key_verifying():
    old = keys.signing_key()

    new = keys.signing_key_rotate()

    assert keys.signing_key().kid == new.kid != old.kid
    assert set(keys.public_keys()) == {old.kid, new.kid}
    assert [k["kid"] for k in keys.jwks()["keys"]] == [new.kid, old.kid]  # the signer first


def test_retiring_a_key_removes_it_from_verification_and_the_jwks():
    old = keys.signing_key()
    new = keys.signing_key_rotate()

    keys.signing_key_retire(kid=old.kid)

    assert set(keys.public_keys()) == {new.kid}
    assert [k["kid"] for k in keys.jwks()["keys"]] == [new.kid]


def test_the_signing_key_cannot_be_retired():
    with pytest.raises(KeyStoreError, match="rotate"):
        keys.signing_key_retire(kid=keys.signing_key().kid)


@pytest.mark.parametrize("kid", ["no-such-key", "../keys/current", ""])
def test_retiring_an_unknown_or_malformed_kid_fails(kid):
    with pytest.raises(KeyStoreError):
        keys.signing_key_retire(kid=kid)


def test_a_rotation_by_another_process_is_seen_by_a_running_one(identity_settings):
    before = keys.signing_key().kid  # cached in this process
    rotator = multiprocessing.get_context("fork").Process(
        target=lambda: FileKeyStore(Path(identity_settings["KEYS_DIR"])).rotate())
    rotator.start()
    rotator.join(60)

    assert rotator.exitcode == 0
    assert keys.signing_key().kid != before
    assert before in keys.public_keys()


def test_a_missing_current_key_file_is_a_clear_error(identity_settings):
    from django.core.exceptions import ImproperlyConfigured

    folder = Path(identity_settings["KEYS_DIR"])
    (folder / "current").write_text("gone")
    with pytest.raises(ImproperlyConfigured, match="missing"):
        keys.signing_key()


def _pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()


def test_a_key_from_the_environment_signs_and_cannot_be_rotated_here(identity_settings, tmp_path):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    identity_settings["PRIVATE_KEY"] = _pem(private_key).replace("\n", "\\n")  # as an env file would hold it
    identity_settings["KEYS_DIR"] = str(tmp_path / "unused")

    key = keys.signing_key()

    assert key.kid == keys.key_id(private_key.public_key())
    assert list(keys.public_keys()) == [key.kid]
    assert not (tmp_path / "unused").exists()
    with pytest.raises(KeyStoreError):
        keys.signing_key_rotate()


def test_an_environment_key_may_name_its_kid(identity_settings):
    identity_settings["PRIVATE_KEY"] = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    identity_settings["PRIVATE_KEY_ID"] = "prod-2025-01"
    assert keys.signing_key().kid == "prod-2025-01"


def test_a_broken_environment_key_stops_with_a_clear_message(identity_settings):
    from django.core.exceptions import ImproperlyConfigured

    identity_settings["PRIVATE_KEY"] = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
    with pytest.raises(ImproperlyConfigured, match="SHOP_JWT_PRIVATE_KEY"):
        keys.signing_key()


def test_file_store_rotation_on_an_empty_folder_keeps_the_first_key(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    rotated = store.rotate()
    assert len(store.ring().keys) == 2 and store.ring().signer.kid == rotated.kid
