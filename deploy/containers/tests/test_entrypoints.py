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


def test_broker_users_gives_each_service_its_own_least_privileged_user_on_the_real_broker():
    """`shop broker-users` through the management API of the local RabbitMQ, in a throwaway vhost; then each
    user may publish its own event types and is refused (ACCESS_REFUSED) another's."""
    import asyncio
    import subprocess
    import uuid

    import aio_pika
    from aiormq.exceptions import ChannelAccessRefused

    shop = topology.load()
    run = uuid.uuid4().hex[:8]
    vhost, prefix = f"compose-users-{run}", f"compose-{run}-"
    passwords = {s.name: uuid.uuid4().hex for s in shop.services}
    environ = {"SHOP_BROKER_ADMIN_URL": "http://guest:guest@127.0.0.1:15672/", "SHOP_BROKER_VHOST": vhost,
               "SHOP_BROKER_USER_PREFIX": prefix,
               **{f"RABBITMQ_{name.upper()}_PASSWORD": password for name, password in passwords.items()}}
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True, timeout=60)

    def publish(service: str, key: str) -> bool:
        async def go():
            url = f"amqp://{prefix}{service}:{passwords[service]}@127.0.0.1:5672/{vhost}"
            async with await aio_pika.connect(url, timeout=10) as connection:
                channel = await connection.channel(publisher_confirms=True)
                exchange = await channel.declare_exchange("shop.events", aio_pika.ExchangeType.TOPIC, durable=True)
                await exchange.publish(aio_pika.Message(b"{}"), routing_key=key)
        try:
            asyncio.run(go())
            return True
        except ChannelAccessRefused:
            return False

    try:
        assert entry.broker_users(environ, timeout=30) == 0
        assert publish("product", "stock.reserved")
        assert not publish("product", "order.placed")
        assert publish("order", "order.placed")
        assert not publish("identity", "product.created")
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
        for service in shop.services:
            subprocess.run(["rabbitmqctl", "-q", "delete_user", prefix + service.name], capture_output=True,
                           timeout=60)
