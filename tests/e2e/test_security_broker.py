"""Least privilege on the broker: each service's own RabbitMQ user (made by `make up`) publishes only its own event
types to shop.events and reads only its own queues; anything else is a real ACCESS_REFUSED from RabbitMQ."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused

from conftest import broker_users

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import topology  # noqa: E402

SHOP = topology.load()


def url_of(shop, account: dict) -> str:
    admin = urlsplit(shop.env["RABBITMQ_URL"])
    return (f"amqp://{quote(account['user'], safe='')}:{quote(account['password'], safe='')}@"
            f"{admin.hostname}:{admin.port or 5672}{admin.path}")


def on_channel(url: str, fn):
    async def go():
        connection = await aio_pika.connect(url, timeout=10)
        async with connection:
            return await fn(await connection.channel(publisher_confirms=True))
    return asyncio.run(go())


def refused(url: str, fn) -> str:
    """The broker's refusal (its reply text), or '' when it let ``fn`` through."""
    try:
        on_channel(url, fn)
    except ChannelAccessRefused as exc:
        return str(exc)
    return ""


@pytest.fixture(scope="module")
def users(shop):
    found = broker_users(shop.data_dir)
    assert set(found) == {s.name for s in SHOP.services}
    return {name: url_of(shop, account) for name, account in found.items()}


def publish(routing_key: str):
    async def go(channel):
        exchange = await channel.get_exchange("shop.events")
        # a body no consumer would accept: should the broker ever let it through, it is parked, not acted on
        await exchange.publish(aio_pika.Message(b"not an event", message_id="forged"), routing_key=routing_key)
    return go


def read_queue(queue_name: str):
    async def go(channel):
        queue = await channel.get_queue(queue_name, ensure=False)
        await queue.get(fail=False, timeout=5)
    return go


def test_a_service_cannot_publish_another_services_event_type(users):
    for service in SHOP.services:
        for other in SHOP.services:
            if other is service:
                continue
            for aggregate in other.publishes:
                key = f"{aggregate}.forged"
                reply = refused(users[service.name], publish(key))
                assert "ACCESS_REFUSED" in reply, f"{service.name} published {key}"


def test_a_service_cannot_read_another_services_queue(users):
    for service in SHOP.services:
        for other in (s for s in SHOP.services if s.consumes and s is not service):
            for queue in (f"{other.name}.events", f"{other.name}.events.dead"):
                reply = refused(users[service.name], read_queue(queue))
                assert "ACCESS_REFUSED" in reply, f"{service.name} read {queue}"


def test_every_service_process_runs_as_its_own_broker_user(shop, users):
    """What the launcher started holds its service's user (read from the live processes), never the admin's."""
    checked = 0
    for record in (shop.data_dir / "run" / "pids").glob("*.pid"):
        if record.stem == "launcher":  # the launcher itself: the caller's environment, the admin's URL is for it
            continue
        pid = json.loads(record.read_text())["pid"]
        environ = dict(item.split("=", 1) for item in
                       Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if "=" in item)
        service = next((s.name for s in SHOP.services if record.stem.startswith(f"{s.name}-")), None)
        assert "SHOP_ADMIN_PASSWORD" not in environ, record.stem
        if service is None:  # supervisord, the gateway, the SMTP sink: no broker at all
            assert "RABBITMQ_URL" not in environ, record.stem
            continue
        assert urlsplit(environ["RABBITMQ_URL"]).username == urlsplit(users[service]).username, record.stem
        checked += 1
    # every web instance, and each service's one worker (`make up` runs its consumer, relay and sender together)
    assert checked >= sum(s.local_web_instances + (SHOP.local_worker(s) is not None) for s in SHOP.services)
