"""compose.yaml as rendered from the topology: what runs, in which order, and where secrets come from."""
import json
import re

import pytest
import topology
import yaml
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
    assert {p.rsplit(":", 1)[1] for p in published} == {"8080", "8443", "15672", "8025", "9090", "3000"}


def test_every_named_volume_is_declared_and_every_file_of_the_checkout_mounted_read_only(doc):
    mounts = [v for entry in doc["services"].values() for v in entry.get("volumes", [])]
    assert {v.split(":", 1)[0] for v in mounts if not v.startswith("./")} == set(doc["volumes"])
    binds = [v for v in mounts if v.startswith("./")]
    assert binds and all(v.endswith(":ro") for v in binds)
    for bind in binds:
        assert (compose_env.DEPLOY.parent / bind.split(":", 1)[0]).exists(), bind


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


# --- monitoring ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prometheus(shop):
    return json.loads(re.sub(r"(?m)^#.*\n", "", compose.prometheus_config(shop)))


def test_prometheus_scrapes_every_process_by_container_name_web_replicas_by_dns(shop, prometheus):
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    static = {t["labels"]["process"]: t["targets"] for t in jobs["shop"]["static_configs"]}
    for process in shop.processes:
        labels = {"service": process.service.name, "kind": process.kind.name, "process": process.name}
        if process.kind.name == "web":  # compose scales it: every replica's address, by DNS
            job = jobs[f"shop-{process.name}"]
            assert job["dns_sd_configs"] == [{"names": [process.name], "type": "A", "port": process.service.port,
                                              "refresh_interval": "30s"}]
            relabelled = {r["target_label"]: r["replacement"] for r in job["relabel_configs"]}
            assert relabelled == {"job": "shop", **labels}  # the alert rules and dashboard read job "shop"
        else:
            assert static[process.name] == [f"{process.name}:{process.kind.health_port}"]
    assert jobs["rabbitmq"]["static_configs"] == [{"targets": ["broker:15692"]}]
    assert jobs["gateway"]["static_configs"][0]["targets"] == ["nginx-exporter:9113"]
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_prometheus_config_is_committed_and_mounted_with_the_rules(shop, doc):
    rendered = compose.render(shop)
    assert (compose_env.DEPLOY.parent / compose.PROMETHEUS_CONFIG).read_text() == rendered[compose.PROMETHEUS_CONFIG]
    entry = doc["services"]["prometheus"]
    assert "./deploy/containers/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in entry["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in entry["volumes"]
    assert "prometheus:/prometheus" in entry["volumes"] and entry["healthcheck"]["test"][1] == "wget"


def test_the_exporter_reads_the_gateways_status_listener_on_the_network_which_is_not_published(shop, doc):
    port = shop.monitoring["nginx_status_port"]
    gateway = doc["services"]["gateway"]
    assert gateway["environment"]["NGINX_STATUS_LISTEN"] == f"0.0.0.0:{port}"
    assert not any(p.endswith(f":{port}") for p in gateway["ports"])
    exporter = doc["services"]["nginx-exporter"]
    assert f"--nginx.scrape-uri=http://gateway:{port}/stub_status" in exporter["command"]
    assert "ports" not in exporter


def test_grafana_is_opt_in_and_provisioned_with_prometheus_and_the_dashboards(shop, doc):
    grafana = doc["services"]["grafana"]
    assert grafana["profiles"] == ["monitoring"]  # `docker compose up` alone starts no Grafana
    mounts = dict(v.rsplit(":", 2)[:2] for v in grafana["volumes"] if v.startswith("./"))
    provisioning = compose_env.DEPLOY.parent / "deploy/grafana/provisioning"
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert datasources["apiVersion"] == 1
    [source] = datasources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == f"http://prometheus:{shop.monitoring['prometheus_port']}"  # the compose service
    providers = yaml.safe_load((provisioning / "dashboards" / "shop.yml").read_text())
    assert providers["apiVersion"] == 1
    [provider] = providers["providers"]
    assert provider["type"] == "file"
    assert mounts["./deploy/grafana"] == provider["options"]["path"]  # where the dashboards are mounted
    dashboards = sorted((compose_env.DEPLOY.parent / "deploy/grafana").glob("*.json"))
    assert dashboards and all(json.loads(d.read_text())["uid"] for d in dashboards)


def test_each_service_uses_its_own_broker_user_made_by_the_broker_users_job(shop, doc):
    users = doc["services"]["broker-users"]
    assert users["command"] == ["broker-users"]
    assert conditions(users) == {"broker": "service_healthy"}
    for name, entry in doc["services"].items():
        url = entry.get("environment", {}).get("RABBITMQ_URL")
        if url is None:
            continue
        service = shop.service(name.split("-", 1)[0])
        assert url.startswith(f"amqp://{service.name}:${{{compose.broker_secret(service)}:?"), name
        if not name.endswith(("-migrate", "-seed")):  # those two never connect to the broker
            assert conditions(entry)["broker-users"] == "service_completed_successfully", name
        assert "RABBITMQ_PASSWORD" not in str(entry["environment"]), f"{name} holds the broker administrator's"


def test_the_staff_password_reaches_the_seed_job_alone(doc):
    holders = [name for name, entry in doc["services"].items()
               if "SHOP_ADMIN_PASSWORD" in entry.get("environment", {})]
    assert holders == ["identity-seed"]
