"""compose.yaml as rendered from the topology: what runs, in which order, and where secrets come from."""
import re

import pytest
import topology
from containers import compose, compose_env


@pytest.fixture(scope="module")
def shop():
    return topology.load()


@pytest.fixture(scope="module")
def doc(shop):
    return compose.document(shop)


def conditions(entry: dict) -> dict:
    return {name: spec["condition"] for name, spec in entry.get("depends_on", {}).items()}


def test_every_process_of_the_topology_is_a_service_running_its_kind(shop, doc):
    for process in shop.processes:
        entry = doc["services"][process.name]
        assert entry["command"] == [process.service.name, process.kind.name]
        assert entry["healthcheck"]["test"] == ["CMD", "shop", "probe"]
        assert entry["stop_grace_period"] == f"{process.kind.stop_grace_seconds}s"
        assert entry.get("deploy", {}).get("replicas", 1) == process.replicas
    assert doc["services"]["product-web"]["deploy"]["replicas"] == 2  # the topology's web replicas


def test_relays_start_after_every_queue_is_declared_and_consumers_after_their_own(shop, doc):
    declares = {f"{s.name}-declare" for s in shop.services if s.consumes}
    assert declares == {"product-declare", "order-declare", "email-declare"}
    for service in shop.services:
        relay = conditions(doc["services"][f"{service.name}-relay"])
        assert {d: "service_completed_successfully" for d in declares}.items() <= relay.items()
        assert relay[f"{service.name}-migrate"] == "service_completed_successfully"
        assert relay["broker"] == relay[f"{service.name}-db"] == "service_healthy"
        if service.consumes:
            consumer = conditions(doc["services"][f"{service.name}-consumer"])
            assert consumer[f"{service.name}-declare"] == "service_completed_successfully"


def test_web_waits_for_its_migration_and_seed_and_the_gateway_for_every_web(shop, doc):
    identity_web = conditions(doc["services"]["identity-web"])
    assert identity_web["identity-migrate"] == identity_web["identity-seed"] == "service_completed_successfully"
    assert conditions(doc["services"]["gateway"]) == {f"{s.name}-web": "service_healthy" for s in shop.services}
    assert conditions(doc["services"]["email-sender"])["mailbox"] == "service_healthy"


def test_no_secret_has_a_value_in_the_file_and_each_one_is_required(shop):
    text = compose.render(shop)["compose.yaml"]
    for name in compose.secret_names(shop):
        assert re.search(r"\$\{" + name + r":\?", text), f"{name} is not required"
        assert not re.search(name + r":-", text), f"{name} has a default"
    assert "PASSWORD: \"" not in re.sub(r"PASSWORD: \"\$\{", "", text)  # every password comes from ${…}


def test_ports_are_published_on_the_bind_address_only(doc):
    published = [p for entry in doc["services"].values() for p in entry.get("ports", [])]
    assert published and all(p.startswith("${SHOP_BIND_ADDRESS:-127.0.0.1}:") for p in published)
    assert {p.rsplit(":", 1)[1] for p in published} == {"8080", "8443", "15672", "8025"}


def test_every_named_volume_is_declared(doc):
    used = {v.split(":", 1)[0] for entry in doc["services"].values() for v in entry.get("volumes", [])}
    assert used == set(doc["volumes"])


def test_rendering_is_deterministic_and_matches_the_committed_file(shop):
    first, second = compose.render(shop), compose.render(shop)
    assert first == second
    assert (compose_env.DEPLOY.parent / "compose.yaml").read_text() == first["compose.yaml"]


def test_compose_env_generates_each_secret_once_and_keeps_what_is_set(tmp_path, shop, capsys):
    env = tmp_path / ".env"
    env.write_text("SHOP_ADMIN_PASSWORD=mine\n")
    assert compose_env.main([str(env)]) == 0
    values = compose_env.existing(env)
    assert set(compose.secret_names(shop)) <= set(values)
    assert values["SHOP_ADMIN_PASSWORD"] == "mine"
    assert len(set(values.values())) == len(values)  # each secret its own random value
    assert env.stat().st_mode & 0o077 == 0
    compose_env.main([str(env)])
    assert compose_env.existing(env) == values
