"""The seeds `make up` runs follow from each service's `seed` list in deploy/topology.toml."""
from __future__ import annotations

from helpers import config, with_services
from launcher.databases import Seed, seed_commands


def test_staff_account_from_the_environment_and_demo_catalog_by_default(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_ADMIN_EMAIL="boss@example.com", SHOP_ADMIN_PASSWORD="pw")
    seeds = seed_commands(cfg)
    staff = seeds["staff account boss@example.com"]
    # the account travels in create_staff's own environment, never in argv (which `ps` shows to everyone)
    assert (staff.service, staff.args) == ("identity", ("create_staff",))
    assert staff.env == {"SHOP_ADMIN_EMAIL": "boss@example.com", "SHOP_ADMIN_PASSWORD": "pw",
                         "SHOP_ADMIN_NAME": "Shop Admin"}
    assert Seed("product", ("seed_demo_catalog",)) in seeds.values()


def test_no_demo_catalog_without_demo_data(monkeypatch, tmp_path):
    seeds = seed_commands(config(monkeypatch, tmp_path, SHOP_DEMO_DATA="0"))
    assert [seed.args for seed in seeds.values()] == [("create_staff",)]


def test_seeds_and_consumers_follow_the_declaration(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, with_services("""
[services.order]
port = 8003
database = "postgres"
processes = ["web", "relay"]
seed = ["create_staff", "purge_everything"]
"""))
    assert [(seed.service, *seed.args) for seed in seed_commands(cfg).values()] == [
        ("order", "create_staff"), ("order", "purge_everything")]
    assert [s.name for s in cfg.services if s.consumes] == []  # no consumer: no declare_topology
