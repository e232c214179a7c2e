"""The seeds `make up` runs follow from each service's `seed` list in deploy/topology.toml."""
from __future__ import annotations

from helpers import config, with_services
from launcher.databases import seed_commands


def test_staff_account_from_the_environment_and_demo_catalog_by_default(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_ADMIN_EMAIL="boss@example.com", SHOP_ADMIN_PASSWORD="pw")
    seeds = seed_commands(cfg)
    assert seeds["staff account boss@example.com"] == (
        "identity", "create_staff", "--email", "boss@example.com", "--password", "pw", "--name", "Shop Admin")
    assert ("product", "seed_demo_catalog") in seeds.values()


def test_no_demo_catalog_without_demo_data(monkeypatch, tmp_path):
    seeds = seed_commands(config(monkeypatch, tmp_path, SHOP_DEMO_DATA="0"))
    assert [args[1] for args in seeds.values()] == ["create_staff"]


def test_seeds_and_consumers_follow_the_declaration(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, with_services("""
[services.order]
port = 8003
database = "postgres"
processes = ["web", "relay"]
seed = ["create_staff", "purge_everything"]
"""))
    assert [args[:2] for args in seed_commands(cfg).values()] == [("order", "create_staff"),
                                                                  ("order", "purge_everything")]
    assert [s.name for s in cfg.services if s.consumes] == []  # no consumer: no declare_topology
