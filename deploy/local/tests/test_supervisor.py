"""The supervisor program table follows from deploy/topology.toml: services, process kinds, web instances, ports."""
from __future__ import annotations

import topology
from helpers import config, with_services
from launcher.supervisor import programs, recorded_command, render_supervisor

SHAPED = with_services("""
[services.identity]
port = 8001
database = "postgres"
processes = ["web"]
local_web_instances = 3
seed = []

[services.order]
port = 8005
database = "postgres"
processes = ["web", "consumer", "relay"]
local_web_instances = 1
seed = []
""")


def _by_name(table):
    return {p.name: p for p in table}


def test_every_process_kind_of_every_service_is_a_program(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path)
    names = set(_by_name(programs(cfg)))
    expected = {"gateway", "smtp-sink", "prometheus", "nginx-exporter"}
    for service in topology.load().services:
        expected |= {f"{service.name}-web-{i}" for i in range(1, service.local_web_instances + 1)}
        expected.add(f"{service.name}-worker")  # every service here runs a relay at least
    assert names == expected


def test_web_instances_listen_ten_ports_apart_on_the_loopback(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHAPED, SHOP_PORT_BASE="30000")
    table = _by_name(programs(cfg))
    webs = [table[f"identity-web-{i}"] for i in (1, 2, 3)]
    assert [p.ready_port for p in webs] == [30001, 30011, 30021]
    for program in webs:
        assert program.command[1:] == ["config.wsgi", "--config", "python:shopkit.gunicorn_conf",
                                       "--bind", f"127.0.0.1:{program.ready_port}"]
        assert program.command[0].endswith("gunicorn")
        assert program.group == "identity-web"
    assert table["order-web-1"].ready_port == 30005
    assert "identity-worker" not in table  # identity declares only web here


def test_a_services_worker_kinds_run_in_one_process_ready_by_its_readyz(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHAPED, SHOP_PORT_BASE="30000")
    table = _by_name(programs(cfg))
    worker = table["order-worker"]
    assert worker.command[1:] == ["manage.py", "run_worker", "consumer", "relay"]  # the declared kinds, in order
    assert worker.command[0].endswith("python") and worker.directory.name == "order"
    assert worker.ready_port == 30000 + 100 + 5 and worker.environment["SHOP_HEALTH_PORT"] == "30105"
    assert worker.stopwaitsecs == max(cfg.shop.kinds[k].stop_grace_seconds for k in ("consumer", "relay"))
    assert not {"order-consumer", "order-relay"} & set(table)
    assert table["order-web-1"].stopwaitsecs == cfg.shop.kinds["web"].stop_grace_seconds
    email = _by_name(programs(config(monkeypatch, tmp_path)))["email-worker"]
    assert email.command[3:] == ["consumer", "relay", "sender"]  # a service's own loop (email's sender) too


def test_the_smtp_sink_runs_only_without_an_email_host_and_only_for_a_sender(monkeypatch, tmp_path):
    assert "smtp-sink" in _by_name(programs(config(monkeypatch, tmp_path)))
    assert "smtp-sink" not in _by_name(programs(config(monkeypatch, tmp_path, EMAIL_HOST="mail.example.com")))
    assert "smtp-sink" not in _by_name(programs(config(monkeypatch, tmp_path, SHAPED)))  # no sender declared


def test_the_sink_and_gateway_ports_default_to_the_topologys(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path)
    shop = topology.load()
    assert (cfg.smtp_port, cfg.mailbox_port) == (shop.mailbox["smtp_port"], shop.mailbox["http_port"])
    assert (cfg.http_port, cfg.https_port) == (shop.gateway["http_port"], shop.gateway["https_port"])
    sink = _by_name(programs(cfg))["smtp-sink"]
    assert sink.command[sink.command.index("--port") + 1] == str(shop.mailbox["smtp_port"])


def test_every_program_is_started_through_the_pid_recorder(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHAPED)
    cfg.run_dir.mkdir(parents=True)
    table = programs(cfg)
    text = render_supervisor(cfg, table).read_text()
    for program in table:
        command = recorded_command(cfg, program)
        assert command[1].endswith("launcher/processes.py")
        assert command[2] == str(cfg.pid_dir / f"{program.name}.pid")
        assert command[3:] == program.command
        assert f"[program:{program.name}]" in text
    assert "[group:identity-web]\nprograms=identity-web-1,identity-web-2,identity-web-3\n" in text
    assert "stopwaitsecs=15" in text and "stopwaitsecs=20" in text  # web's grace, and the workers'


def test_a_services_declared_web_workers_reach_its_masters_unless_the_caller_sets_them(monkeypatch, tmp_path):
    monkeypatch.delenv("SHOP_WEB_WORKERS", raising=False)
    table = _by_name(programs(config(monkeypatch, tmp_path)))
    shop = topology.load()
    for service in shop.services:
        declared = service.local_web_workers
        assert table[f"{service.name}-web-1"].environment.get("SHOP_WEB_WORKERS") == (
            str(declared) if declared else None)
    assert table["identity-web-1"].environment["SHOP_WEB_WORKERS"] == "1"  # as committed: a light service
    monkeypatch.setenv("SHOP_WEB_WORKERS", "3")
    table = _by_name(programs(config(monkeypatch, tmp_path)))
    assert all("SHOP_WEB_WORKERS" not in p.environment for p in table.values())  # the caller's 3 for every one
