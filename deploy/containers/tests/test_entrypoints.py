"""The images' entry points: `shop <service> <kind>` resolves the topology's command; the gateway's upstreams."""
from pathlib import Path

import pytest
import shop as entry
import topology


def test_web_runs_gunicorn_on_the_service_port_in_the_service_folder():
    argv, folder, env = entry.command(["order", "web"], {})
    assert argv[0] == "gunicorn" and argv[argv.index("--bind") + 1] == "0.0.0.0:8003"
    assert folder == entry.APP / "services" / "order"
    assert env["SHOP_HEALTH_PORT"] == "8003"


@pytest.mark.parametrize("kind, command", [("consumer", "consume_events"), ("relay", "outbox_relay")])
def test_workers_run_their_command_with_the_health_port_of_the_topology(kind, command):
    argv, _, env = entry.command(["product", kind], {})
    assert argv == ["python", "manage.py", command]
    assert env["SHOP_HEALTH_PORT"] == str(topology.load().kinds[kind].health_port)


def test_a_health_port_given_by_the_environment_wins():
    assert entry.command(["email", "sender"], {"SHOP_HEALTH_PORT": "9200"})[2]["SHOP_HEALTH_PORT"] == "9200"


def test_manage_and_seed():
    assert entry.command(["identity", "manage", "migrate", "--noinput"], {})[0] == \
        ["python", "manage.py", "migrate", "--noinput"]
    assert entry.command(["identity", "seed"], {})[0] == ["sh", "-c", "python manage.py create_staff"]
    assert entry.command(["order", "seed"], {})[0] == ["sh", "-c", "true"]  # order seeds nothing


@pytest.mark.parametrize("argv, message", [(["shipping", "web"], "unknown service"),
                                           (["identity", "consumer"], "runs no 'consumer'"),
                                           (["identity"], "usage")])
def test_mistakes_say_what_is_known(argv, message):
    with pytest.raises(SystemExit, match=message):
        entry.command(argv, {})


def test_the_gateway_proxies_to_each_service_by_name_unless_told_otherwise():
    import gateway

    shop = topology.load()
    servers = gateway.servers(shop, {"SHOP_ORDER_UPSTREAM": "10.0.0.5:8003, 10.0.0.6:8003"})
    assert servers["product"] == ["product-web:8002"]
    assert servers["order"] == ["10.0.0.5:8003", "10.0.0.6:8003"]


def test_the_gateway_config_renders_with_the_container_values(tmp_path, monkeypatch):
    import gateway

    monkeypatch.setattr(gateway, "WORK", tmp_path)
    monkeypatch.setattr(gateway, "certificate", lambda environ: (Path("/x/cert.pem"), Path("/x/key.pem")))
    conf = gateway.prepare({}).read_text()
    assert "listen 0.0.0.0:8080;" in conf and "server identity-web:8001" in conf
    assert f"pid {tmp_path}/run/nginx.pid;" in conf and "user " not in conf.split("worker_processes")[0]
    assert (tmp_path / "log" / "gateway-access.log").readlink() == Path("/dev/stdout")


def test_the_gateway_serves_stub_status_where_nginx_status_listen_says(tmp_path, monkeypatch):
    import gateway

    monkeypatch.setattr(gateway, "WORK", tmp_path)
    monkeypatch.setattr(gateway, "certificate", lambda environ: (Path("/x/cert.pem"), Path("/x/key.pem")))
    status = topology.load().monitoring["nginx_status_port"]
    assert f"listen 127.0.0.1:{status};" in gateway.prepare({}).read_text()  # alone: the loopback
    conf = gateway.prepare({"NGINX_STATUS_LISTEN": f"0.0.0.0:{status}"}).read_text()
    assert f"listen 0.0.0.0:{status};" in conf and "listen 127.0.0.1" not in conf  # compose: the container network
