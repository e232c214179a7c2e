"""Secrets under `make up`: the staff password reaches create_staff alone (never argv), each service's processes get
their own broker user, and the shop refuses to be exposed beyond loopback with the default staff password."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import topology
from helpers import config
from launcher import databases
from launcher.config import REPO, VENV, SetupError
from launcher.progress import Progress
from launcher.rabbitmq import credentials
from launcher.supervisor import programs, render_supervisor

UP = REPO / "deploy" / "local" / "up.py"
PYTHON = VENV / "bin" / "python"


def rendered(cfg) -> str:
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    return render_supervisor(cfg, programs(cfg)).read_text()


def sections(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\[program:([^\]]+)\]\n(.*?)(?=^\[|\Z)", text, flags=re.S | re.M))


def test_the_staff_password_reaches_no_supervised_process(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_ADMIN_PASSWORD="s3cret-staff-pw")
    for env in (cfg.service_env(), *(cfg.service_env(s.name) for s in cfg.services)):
        assert "SHOP_ADMIN_PASSWORD" not in env
        assert "s3cret-staff-pw" not in env.values()
    assert "s3cret-staff-pw" not in rendered(cfg)


def test_each_service_process_gets_its_own_broker_user_and_the_rest_none(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/shop-x")
    text = rendered(cfg)
    assert stat.S_IMODE(cfg.supervisor_conf.stat().st_mode) == 0o600  # it holds the services' broker passwords
    found = {}
    for name, body in sections(text).items():
        url = re.search(r'RABBITMQ_URL="([^"]*)"', body)
        service = next((s.name for s in cfg.services if name.startswith(f"{s.name}-")), None)
        if service is None:
            assert url is None, f"{name} got a broker URL"
            continue
        user = re.match(r"amqp://([^:]+):([^@]+)@127\.0\.0\.1:5672/shop-x$", url.group(1))
        assert user and user.group(1) == f"shop-{cfg.instance_id}-{service}", name
        found.setdefault(service, set()).add(user.groups())
    assert set(found) == {s.name for s in cfg.services}
    assert all(len(users) == 1 for users in found.values())  # one user per service, shared by its processes
    assert len({u for users in found.values() for u in users}) == len(found)
    assert "guest" not in text  # the administrator of RABBITMQ_URL stays with the launcher
    assert "RABBITMQ_URL" not in cfg.service_env()  # supervisord, the gateway, the SMTP sink
    # the passwords are generated once, readable by their owner alone, and the same on the next start
    path = cfg.secrets_dir / "rabbitmq-users.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials(config(monkeypatch, tmp_path, RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/shop-x")) == \
        credentials(cfg)


def test_create_staffs_not_staff_line_is_shown_as_a_warning():
    created = "created: staff account a@example.com (1)"
    assert databases.seed_note(created + "\n") == created
    note = databases.seed_note("NOT staff: a@example.com already has a customer account, which is never promoted\n")
    assert note.startswith("! WARNING: NOT staff: a@example.com")


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.0.2.10", "shop.example"])
@pytest.mark.parametrize("password", [None, "admin"])
def test_bound_beyond_loopback_the_default_staff_password_is_refused(monkeypatch, tmp_path, address, password):
    env = {"SHOP_BIND_ADDRESS": address, **({"SHOP_ADMIN_PASSWORD": password} if password else {})}
    cfg = config(monkeypatch, tmp_path, **env)
    with pytest.raises(SetupError, match="SHOP_ADMIN_PASSWORD"):
        cfg.check_exposure()


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.9", "::1", "localhost"])
def test_on_loopback_the_default_is_fine_and_beyond_it_a_real_password_is(monkeypatch, tmp_path, address):
    config(monkeypatch, tmp_path, SHOP_BIND_ADDRESS=address).check_exposure()
    config(monkeypatch, tmp_path, SHOP_BIND_ADDRESS="0.0.0.0", SHOP_ADMIN_PASSWORD="a-long-real-one").check_exposure()


def test_make_up_refuses_to_start_on_every_address_with_the_default_password(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SHOP_ADMIN_PASSWORD"}
    env.update(SHOP_DATA_DIR=str(tmp_path / "data"), SHOP_BIND_ADDRESS="0.0.0.0", SHOP_PORT_BASE="29000",
               SHOP_HTTP_PORT="29080", SHOP_HTTPS_PORT="29043")
    result = subprocess.run([sys.executable, str(UP), "--no-install", "--render-only"], env=env, cwd=REPO,
                            text=True, capture_output=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SHOP_BIND_ADDRESS=0.0.0.0" in result.stderr and "SHOP_ADMIN_PASSWORD" in result.stderr
    assert not (tmp_path / "data" / "run" / "supervisord.conf").exists()


# --- with the real identity service (SQLite in the test's data folder) ----------------------------------------
def identity_only(monkeypatch, tmp_path: Path, **env: str):
    cfg = config(monkeypatch, tmp_path, SHOP_DEMO_DATA="0", **env)
    cfg.services = [cfg.shop.service("identity")]
    return cfg


def test_an_account_seeded_with_the_default_earlier_keeps_the_shop_from_being_exposed(monkeypatch, tmp_path, capsys):
    databases.prepare_databases(identity_only(monkeypatch, tmp_path), Progress())  # loopback: admin/admin seeded
    assert "created: staff account admin@example.com" in capsys.readouterr().out
    exposed = identity_only(monkeypatch, tmp_path, SHOP_BIND_ADDRESS="0.0.0.0", SHOP_ADMIN_PASSWORD="new-strong-pw")
    exposed.check_exposure()  # the configured password is fine, yet the account still takes "admin"
    with pytest.raises(SetupError, match="still accepts the default password"):
        databases.prepare_databases(exposed, Progress())


def test_an_exposed_shop_whose_staff_account_has_a_real_password_starts(monkeypatch, tmp_path, capsys):
    cfg = identity_only(monkeypatch, tmp_path, SHOP_BIND_ADDRESS="0.0.0.0", SHOP_ADMIN_PASSWORD="new-strong-pw")
    databases.prepare_databases(cfg, Progress())
    assert "created: staff account admin@example.com" in capsys.readouterr().out


def test_a_customer_who_registered_the_admin_email_first_is_a_warning(monkeypatch, tmp_path, capsys):
    cfg = identity_only(monkeypatch, tmp_path, SHOP_ADMIN_EMAIL="boss@example.com")
    databases.manage(cfg, "identity", "migrate", "--noinput")
    databases.manage(cfg, "identity", "shell", "-c", "from accounts.services import user_register; "
                     "user_register(email='boss@example.com', password='Customer-pw-4711', name='Early Bird')")
    capsys.readouterr()
    databases.prepare_databases(cfg, Progress())
    out = capsys.readouterr().out
    assert "! WARNING: NOT staff: boss@example.com already has a customer account" in out


def test_the_topologys_publishers_are_the_owners_shopkit_checks_events_against():
    """Broker topic permissions (deploy/topology.toml `publishes`) and the consumers' ownership check
    (shopkit.events.OWNERS) must name the same owner for every aggregate."""
    from shopkit.events import OWNERS

    shop = topology.load()
    assert {aggregate: s.name for s in shop.services for aggregate in s.publishes} == OWNERS
