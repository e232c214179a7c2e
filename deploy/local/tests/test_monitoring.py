"""Monitoring under `make up`: each worker's metrics port from the topology, Prometheus's config scraping every
process (checked by promtool), the programs for Prometheus and the gateway's exporter, the stub_status listener."""
from __future__ import annotations

import json
import socket
import subprocess

import topology
from helpers import config
from launcher import monitoring
from launcher.gateway import local_values, render_config, local_servers
from launcher.run import check_ports_free
from launcher.supervisor import programs, render_supervisor


def _by_name(table):
    return {p.name: p for p in table}


def test_each_worker_gets_its_own_loopback_metrics_port_from_the_topology(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000")
    table = _by_name(programs(cfg))
    assert table["order-worker"].environment == {"SHOP_HEALTH_PORT": "30103", "SHOP_HEALTH_HOST": "127.0.0.1"}
    assert table["product-worker"].ready_port == 30102 and table["email-worker"].ready_port == 30104
    workers = [p for p in table.values() if "SHOP_HEALTH_PORT" in p.environment]
    assert len(workers) == len(cfg.shop.services)  # each runs at least a relay
    ports = [p.port for p in table.values() if p.port] + [p.ready_port for p in table.values() if p.ready_port]
    assert len(ports) == len(set(ports)), "two programs would listen on one port"
    cfg.run_dir.mkdir(parents=True)
    text = render_supervisor(cfg, list(table.values())).read_text()
    # (each line then ends with the service's own RABBITMQ_URL: test_secrets.py)
    assert 'environment=SHOP_PROCESS_NAME="order-worker",SHOP_HEALTH_PORT="30103",SHOP_HEALTH_HOST="127.0.0.1",' \
        'RABBITMQ_URL=' in text
    assert 'environment=SHOP_PROCESS_NAME="order-web-1",RABBITMQ_URL=' in text  # web serve /metrics on their port


def test_prometheus_scrapes_every_process_the_broker_and_the_gateway(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000",
                 RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/shop-x")
    cfg.run_dir.mkdir(parents=True)
    path = monitoring.write_prometheus_config(cfg)
    config_ = json.loads(path.read_text())
    jobs = {job["job_name"]: job for job in config_["scrape_configs"]}
    shop_targets = {c["labels"]["process"]: c["targets"] for c in jobs["shop"]["static_configs"]}
    table = _by_name(programs(cfg))
    served = {name: p for name, p in table.items() if p.service}
    # the topology as committed: one web master and one worker per service; each a target on its own port
    assert len(served) == sum(s.local_web_instances + 1 for s in cfg.shop.services) == 8
    for name, program in served.items():
        assert shop_targets[name] == [f"127.0.0.1:{program.ready_port}"], name
    assert set(shop_targets) == set(served)
    assert jobs["rabbitmq-queues"]["params"]["vhost"] == ["shop-x"]
    assert jobs["gateway"]["static_configs"][0]["targets"] == ["127.0.0.1:30092"]
    assert config_["rule_files"] == [str(monitoring.RULES)]
    checked = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the rule file included


def test_prometheus_and_the_exporter_are_programs_on_base_derived_ports(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000")
    table = _by_name(programs(cfg))
    prometheus, exporter = table["prometheus"], table["nginx-exporter"]
    assert "--web.listen-address=127.0.0.1:30090" in prometheus.command
    assert prometheus.ready_log == monitoring.PROMETHEUS_READY_LOG and prometheus.port == 30090
    assert "-nginx.scrape-uri=http://127.0.0.1:30091/stub_status" in exporter.command
    assert "-web.listen-address=127.0.0.1:30092" in exporter.command
    assert table["gateway"].port == 30091


def test_the_gateway_serves_stub_status_on_its_loopback_port_only(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000")
    nginx = render_config(local_values(cfg, tmp_path / "c.crt", tmp_path / "c.key"), cfg.shop,
                          local_servers(cfg.shop, cfg.port_base))["nginx.conf"]
    status_server = nginx[nginx.index("listen 127.0.0.1:30091;") - 200:]
    assert "stub_status;" in status_server
    assert nginx.count("stub_status;") == 1
    # without a value for the listener (another renderer, e.g. a container's), the topology's port is used
    values = {k: v for k, v in local_values(cfg, tmp_path / "c.crt", tmp_path / "c.key").items()
              if k != "NGINX_STATUS_LISTEN"}
    other = render_config(values, cfg.shop, local_servers(cfg.shop, cfg.port_base))["nginx.conf"]
    assert f"listen 127.0.0.1:{cfg.shop.monitoring['nginx_status_port']};" in other


def test_a_taken_metrics_port_is_named_before_starting(monkeypatch, tmp_path):
    import socket

    import pytest
    from launcher.config import SetupError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = sock.getsockname()[1] - 103  # order-worker's port under this base is the one we hold
        sock.listen()
        cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE=str(base), SHOP_HTTP_PORT="0", SHOP_HTTPS_PORT="0")
        with pytest.raises(SetupError, match="order-worker"):
            check_ports_free(cfg, programs(cfg))


def test_the_topology_refuses_two_processes_on_one_local_port():
    # a worker offset of 0 puts every service's worker on its web port
    text = topology.TOPOLOGY_FILE.read_text().replace("local_port_offset = 100", "local_port_offset = 0")
    import tempfile
    from pathlib import Path

    import pytest
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "topology.toml"
        path.write_text(text)
        with pytest.raises(topology.TopologyError, match="share a local port"):
            topology.load(path)


def test_a_private_shops_port_base_has_every_worker_and_monitoring_port_free():
    # the one picker tests and benches share: a base is refused when any port the shop would take is held
    shop = topology.load()
    base = shop.free_port_base()
    assert shop.private_shop_ports_free(base)
    ports = topology.private_shop_ports(base)
    assert ports["SHOP_PORT_BASE"] == str(base) and int(ports["SHOP_HTTP_PORT"]) > base
    for offset in (max(shop.local_port_offsets()), shop.monitoring["local_nginx_exporter_offset"],
                   int(ports["SHOP_SMTP_PORT"]) - base):
        with socket.socket() as held:
            held.bind(("127.0.0.1", base + offset))
            held.listen()
            assert not shop.private_shop_ports_free(base), offset
