"""Management commands: create_staff (used by the launcher) and the signing key commands."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts import keys
from accounts.models import User
from shopkit.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db


def run(*args, stderr=None):
    out = StringIO()
    call_command(*args, stdout=out, stderr=stderr or StringIO())
    return out.getvalue()


def test_create_staff_takes_the_password_and_email_from_the_environment(monkeypatch):
    monkeypatch.setenv("SHOP_ADMIN_EMAIL", "env-admin@example.com")
    monkeypatch.setenv("SHOP_ADMIN_PASSWORD", "from-the-environment")

    assert "created" in run("create_staff")

    user = User.objects.get()
    assert user.email == "env-admin@example.com" and user.check_password("from-the-environment")


def test_create_staff_takes_the_password_from_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOP_ADMIN_PASSWORD", raising=False)
    secret = tmp_path / "admin-password"
    secret.write_text("from a file\n")

    run("create_staff", "--email", "admin@example.com", "--password-file", str(secret))

    assert User.objects.get().check_password("from a file")


def test_create_staff_with_password_on_the_command_line_still_works_but_warns(monkeypatch):
    monkeypatch.delenv("SHOP_ADMIN_PASSWORD", raising=False)
    err = StringIO()
    run("create_staff", "--email", "admin@example.com", "--password", "admin", stderr=err)
    assert "deprecated" in err.getvalue()
    assert User.objects.get().check_password("admin")


def test_create_staff_without_a_password_or_with_an_unreadable_file_fails(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOP_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="SHOP_ADMIN_PASSWORD"):
        run("create_staff", "--email", "admin@example.com")
    with pytest.raises(CommandError, match="password-file"):
        run("create_staff", "--email", "admin@example.com", "--password-file", str(tmp_path / "missing"))
    assert not User.objects.exists()


def test_create_staff_twice_creates_one_staff_account_with_the_dev_default_password():
    first = run("create_staff", "--email", "admin@example.com", "--password", "admin")
    second = run("create_staff", "--email", "Admin@Example.com", "--password", "admin", "--name", "Admin")

    assert "created" in first and "already present" in second
    [user] = User.objects.all()
    assert user.role == "staff" and user.check_password("admin")
    assert OutboxMessage.objects.filter(event_type="user.registered").count() == 1


def test_create_staff_never_makes_an_existing_customer_staff(make_user):
    make_user(email="ops@example.com")  # someone registered the address before the operator ran the command

    out = run("create_staff", "--email", "ops@example.com", "--password", "whatever")

    assert out.strip().splitlines()[-1].startswith("NOT staff: ops@example.com already has a customer account")
    user = User.objects.get()
    assert user.role == "customer" and not user.check_password("whatever")


def test_create_staff_with_a_bad_email_fails_cleanly():
    with pytest.raises(CommandError, match="email"):
        run("create_staff", "--email", "admin", "--password", "admin")
    assert not User.objects.exists()


def test_the_staff_account_can_sign_in_as_staff(client):
    run("create_staff", "--email", "admin@example.com", "--password", "admin")
    response = client.post("/api/v1/auth/token", {"email": "admin@example.com", "password": "admin"},
                           content_type="application/json")
    me = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.json()["role"] == "staff"


@pytest.mark.parametrize("email,candidate,accepted", [
    ("Admin@example.com", "admin", True),
    ("admin@example.com", "not-admin", False),
    ("nobody@example.com", "admin", False),
])
def test_password_accepted_reads_the_candidate_from_stdin(monkeypatch, email, candidate, accepted):
    run("create_staff", "--email", "admin@example.com", "--password", "admin")
    monkeypatch.setattr("sys.stdin", StringIO(candidate + "\n"))

    if accepted:
        assert run("password_accepted", "--email", email).strip() == "accepted"
    else:
        with pytest.raises(SystemExit) as exited:
            run("password_accepted", "--email", email)
        assert exited.value.code == 3


def test_rotate_then_retire_through_the_commands():
    old = keys.signing_key().kid

    out = run("rotate_signing_key")
    new = keys.signing_key().kid
    listing = run("list_signing_keys")
    run("retire_signing_key", f"--kid={old}")  # a thumbprint may begin with '-': the option form always works

    assert new != old and f"signing with {new}" in out
    assert old in listing and f"{new}  (signing)" in listing
    assert list(keys.public_keys()) == [new]


def test_retire_signing_key_refuses_the_signer():
    with pytest.raises(CommandError, match="signing key"):
        run("retire_signing_key", f"--kid={keys.signing_key().kid}")


def test_purge_refresh_tokens_reports_what_it_deleted():
    assert "deleted 0" in run("purge_refresh_tokens")


def test_a_kid_beginning_with_a_dash_reaches_the_key_store():
    with pytest.raises(CommandError, match="no key -AbC"):
        run("retire_signing_key", "--kid=-AbC")


def test_retire_without_a_kid_says_what_to_pass():
    with pytest.raises(CommandError, match="name the key to retire"):
        run("retire_signing_key")
