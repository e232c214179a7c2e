"""The generated broker permissions, applied to the real RabbitMQ: each service can do what shopkit does, no more.

Each service gets a user in a throwaway vhost with exactly the regexes of its Permission and TopicPermission
resources (deploy/topology.py's one definition); then the
real shopkit code runs as that user: the relay's exchange declare and confirmed publish, the consumer's declare
(quorum queue, bindings, retry and dead queues), a retry, parking, listing and replaying parked messages. And
what a service must not do is refused: reading, declaring or binding another service's queues, publishing to
another exchange, publishing another service's event type.
"""
import asyncio
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import django
import pytest
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "shopkit", "shopkit.messaging"], DATABASES={},
    SHOPKIT_SERVICE="unused", SHOPKIT_CONSUMER={"HANDLERS": "", "MAX_ATTEMPTS": 3, "RETRY_BASE_MS": 60000})
django.setup()

import aio_pika  # noqa: E402
from aiormq.exceptions import ChannelAccessRefused  # noqa: E402

from shopkit.messaging import parking  # noqa: E402
from shopkit.messaging.config import EXCHANGE, QueueNames  # noqa: E402
from shopkit.messaging.consumer import Consumer  # noqa: E402
from shopkit.messaging.handling import Handler  # noqa: E402
from shopkit.testing import rabbitmqctl, throwaway_vhost  # noqa: E402

IGNORE = Handler("ignore", lambda event: None)  # the tests look at what the broker allows, not at handling

EVENT = "user.test_happened"  # published by identity, which owns user.* (deploy/topology.toml `publishes`)


@pytest.fixture(scope="module")
def users(shop):
    """A URL per service: its own user, in a vhost of this test's own, with the generated permissions."""
    run = uuid.uuid4().hex[:8]
    created = []
    with throwaway_vhost("k8sperm") as admin_url:
        parts = urlsplit(admin_url)
        vhost = parts.path.lstrip("/")
        urls = {}
        try:
            for service in shop.services:
                user, password = f"k8sperm-{run}-{service.name}", uuid.uuid4().hex
                rabbitmqctl("add_user", user, password)
                created.append(user)
                rules = service.broker_permissions()
                rabbitmqctl("set_permissions", "-p", vhost, user, rules["configure"], rules["write"], rules["read"])
                topic = service.broker_topic_permissions()
                rabbitmqctl("set_topic_permissions", "-p", vhost, user, topic["exchange"], topic["write"],
                            topic["read"])
                netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 5672}"
                urls[service.name] = urlunsplit((parts.scheme, netloc, "/" + quote(vhost, safe=""), "", ""))
            yield urls
        finally:
            for user in created:
                rabbitmqctl("delete_user", user)


def on_channel(url, fn):
    async def go():
        connection = await aio_pika.connect(url, timeout=10)
        async with connection:
            return await fn(await connection.channel(publisher_confirms=True))
    return asyncio.run(go())


def refused(url, fn) -> bool:
    try:
        on_channel(url, fn)
    except ChannelAccessRefused:
        return True
    return False


async def publish(channel, routing_key: str) -> None:
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    await exchange.publish(aio_pika.Message(b"{}"), routing_key=routing_key)


def consumers(shop):
    return [s for s in shop.services if s.consumes]


def test_each_service_does_what_shopkit_does_with_its_own_permissions(shop, users):
    for service in consumers(shop):
        consumer = Consumer(service=service.name, handlers={EVENT: IGNORE}, url=users[service.name])
        on_channel(users[service.name], consumer.declare)

    publisher = shop.service("identity").name  # a relay of any service, consuming or not, publishes the same way

    async def relay_publish(channel):
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(b"{}", message_id="m1", type=EVENT), routing_key=EVENT)
    on_channel(users[publisher], relay_publish)

    for service in consumers(shop):
        names = QueueNames(service.name)
        consumer = Consumer(service=service.name, handlers={EVENT: IGNORE}, url=users[service.name])

        async def retry_then_park(channel):
            queue = await channel.declare_queue(names.main, durable=True, arguments={"x-queue-type": "quorum"})
            message = await queue.get(timeout=5)
            await consumer._retry(message, channel, 1)  # to <svc>.events.retry.1 through the default exchange
            retried = await (await channel.declare_queue(names.retry(1), passive=True)).get(timeout=5)
            await consumer._park(retried, channel, "test", 2)  # to <svc>.events.dead
        on_channel(users[service.name], retry_then_park)
        parked = asyncio.run(parking.list_parked(users[service.name], service.name))
        assert [p["message_id"] for p in parked] == ["m1"], service.name
        assert asyncio.run(parking.replay_parked(users[service.name], service.name)) == ["m1"]


def test_a_service_cannot_touch_another_services_queues_or_other_exchanges(shop, users):
    for service in consumers(shop):  # the queues exist, declared by their owners
        on_channel(users[service.name], Consumer(service=service.name, handlers={EVENT: IGNORE}).declare)
    for service in shop.services:
        url = users[service.name]
        for other in consumers(shop):
            if other is service:
                continue
            names = QueueNames(other.name)

            async def consume_other(channel, names=names):
                queue = await channel.declare_queue(names.main, passive=True)
                await queue.get(fail=False, timeout=5)
            assert refused(url, consume_other), f"{service.name} read {names.main}"

            async def declare_other(channel, names=names):
                await channel.declare_queue(names.retry(9), durable=True)
            assert refused(url, declare_other), f"{service.name} declared {names.retry(9)}"

            async def bind_other(channel, names=names):
                queue = await channel.declare_queue(names.main, passive=True)
                await queue.bind(EXCHANGE, routing_key="stolen.#")
            assert refused(url, bind_other), f"{service.name} bound {names.main}"

        async def publish_elsewhere(channel):
            exchange = await channel.get_exchange("amq.topic")
            await exchange.publish(aio_pika.Message(b"{}"), routing_key="x")
        assert refused(url, publish_elsewhere), f"{service.name} published to amq.topic"

        for aggregate in service.publishes:  # its own event types it may publish (confirmed by the broker)
            on_channel(url, lambda channel, key=f"{aggregate}.owned": publish(channel, key))
        for other in shop.services:
            for aggregate in other.publishes if other is not service else ():
                key = f"{aggregate}.forged"
                assert refused(url, lambda channel, key=key: publish(channel, key)), f"{service.name} published {key}"

        async def declare_exchange(channel):
            await channel.declare_exchange("shop.other", aio_pika.ExchangeType.TOPIC, durable=True)
        assert refused(url, declare_exchange), f"{service.name} declared an exchange"
