"""Benchmark: outbox relay throughput (commit → confirmed publish), consumer throughput, and publish → handled
latency (p50/p99).

Usage: .venv/bin/python bench/messaging/relay_bench.py [--events 5000] [--latency-events 500] [--database-url URL]
    [--consumer-events 2000] [--consumer-batch-sizes 1,32]
Runs against the local RabbitMQ in a vhost of its own (created and removed here), and a fresh SQLite file
(default) or the PostgreSQL/MySQL database named by --database-url (created if missing, dropped after).
Consumer throughput: --consumer-events events wait in a queue; a consumer drains it, each event's handler writing
one row and emitting one event (as the saga's handlers do) while a relay publishes those, once per batch size
given (1: one event per transaction and executor hop, as before batching). Reference in the same run: a bare
aio-pika consumer acking the same number of messages, no database.
Latency is measured one event at a time (every --latency-interval-ms), from the commit of the transaction that
wrote it to the moment its handler runs in the consumer. Prints one JSON object of results. Baselines measured
in the same run: a bare aio-pika client publishing the same messages with windowed confirms, and confirming each
message before the next.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "libs" / "shopkit"))


def setup_django(database_url: str | None):
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["SHOP_LOG_LEVEL"] = "WARNING"
    if database_url:
        os.environ["SHOPKIT_TEST_DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # the bench publishes user.registered as the service owning it would (a consumer parks any other source)
    settings.SHOPKIT_SERVICE = "identity"

    if not database_url:
        settings.DATABASES["default"]["NAME"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    else:
        _create_server_database(database_url)
    connection.close()
    call_command("migrate", verbosity=0)


def _create_server_database(url: str):
    from django.db import connection

    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")


def _drop_server_database():
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def fill_outbox(count: int, per_transaction: int = 100):
    from django.db import transaction

    from shopkit import events
    from shopkit.messaging.outbox import emit

    for start in range(0, count, per_transaction):
        with transaction.atomic():
            for i in range(start, min(start + per_transaction, count)):
                emit(events.USER_REGISTERED, {"user_id": f"u{i}", "email": f"u{i}@example.com", "name": "Bench"})


def bench_relay_throughput(url: str, count: int) -> dict:
    from shopkit.messaging.models import OutboxMessage
    from shopkit.messaging.relay import Relay
    from shopkit.testing import running

    fill_outbox(count)
    relay = Relay(url=url)
    started = time.perf_counter()
    with running(relay):
        while OutboxMessage.objects.filter(sent_at__isnull=True).exists():
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    return {"events": count, "seconds": round(elapsed, 3), "events_per_second": round(count / elapsed)}


def bench_bare_client(url: str, count: int) -> dict:
    import aio_pika

    body = json.dumps({"specversion": "1.0", "data": {"pad": "x" * 300}}).encode()

    async def go(windowed: bool) -> float:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.declare_exchange("shop.events", aio_pika.ExchangeType.TOPIC, durable=True)
            started = time.perf_counter()
            if windowed:
                for start in range(0, count, 500):
                    await asyncio.gather(*[
                        exchange.publish(aio_pika.Message(body=body, delivery_mode=2), "bench.bare", mandatory=False)
                        for _ in range(min(500, count - start))])
            else:
                for _ in range(count):
                    await exchange.publish(aio_pika.Message(body=body, delivery_mode=2), "bench.bare",
                                           mandatory=False)
            return time.perf_counter() - started

    windowed = asyncio.run(go(True))
    single = asyncio.run(go(False))
    return {"windowed_confirms_per_second": round(count / windowed),
            "confirm_each_per_second": round(count / single)}


def bench_consumer(url: str, count: int, batch_size: int) -> dict:
    import aio_pika

    from shopkit import events
    from shopkit.envelope import build_event
    from shopkit.messaging.consumer import Consumer
    from shopkit.messaging.handling import Handler
    from shopkit.messaging.outbox import emit
    from shopkit.messaging.relay import Relay
    from shopkit.testing import running
    from tests.kitapp.models import Note

    done = threading.Event()
    handled = [0]

    def note_and_emit(event):
        Note.objects.create(key=event.data["user_id"])
        emit(events.STOCK_RELEASED, {"order_id": event.data["user_id"]})  # a write to the outbox, and its doorbell
        handled[0] += 1
        if handled[0] == count:
            done.set()

    consumer = Consumer(service=f"benchc{uuid.uuid4().hex[:6]}", url=url, batch_size=batch_size,
                        handlers={events.USER_REGISTERED: Handler("bench_note", note_and_emit)})
    template = json.loads(build_event(events.USER_REGISTERED, {"user_id": "t", "email": "t@example.com", "name": "B"},
                                      source="/shop/identity").to_json())

    async def fill():
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await consumer.declare(channel)
            exchange = await channel.get_exchange("shop.events")
            for start in range(0, count, 500):
                messages = []
                for i in range(start, min(start + 500, count)):
                    body = {**template, "id": str(uuid.uuid4()), "data": {**template["data"], "user_id": f"c{i}"}}
                    messages.append(exchange.publish(aio_pika.Message(
                        json.dumps(body).encode(), message_id=body["id"], delivery_mode=2), events.USER_REGISTERED))
                await asyncio.gather(*messages)

    asyncio.run(fill())
    started = time.perf_counter()
    with running(Relay(url=url)), running(consumer):  # the relay publishes what the handlers emit, as in a service
        done.wait(600)
        elapsed = time.perf_counter() - started
    return {"batch_size": batch_size, "events": handled[0], "seconds": round(elapsed, 3),
            "events_per_second": round(handled[0] / elapsed)}


def bench_bare_consumer(url: str, count: int) -> dict:
    import aio_pika

    async def go() -> float:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            queue = await channel.declare_queue(f"bench.bare.{uuid.uuid4().hex[:6]}", durable=True,
                                                arguments={"x-queue-type": "quorum"})
            body = json.dumps({"specversion": "1.0", "data": {"pad": "x" * 300}}).encode()
            for start in range(0, count, 500):
                await asyncio.gather(*[channel.default_exchange.publish(
                    aio_pika.Message(body=body, delivery_mode=2), queue.name) for _ in range(min(500, count - start))])
            await channel.set_qos(prefetch_count=64)
            started = time.perf_counter()
            received = 0
            async with queue.iterator() as messages:
                async for message in messages:
                    await message.ack()
                    received += 1
                    if received == count:
                        break
            elapsed = time.perf_counter() - started
            await queue.delete(if_unused=False, if_empty=False)
            return elapsed

    elapsed = asyncio.run(go())
    return {"events": count, "acked_each_per_second": round(count / elapsed)}


def bench_latency(url: str, count: int, interval: float) -> dict:
    from django.db import transaction

    from shopkit import events
    from shopkit.messaging.consumer import Consumer
    from shopkit.messaging.handling import Handler
    from shopkit.messaging.outbox import emit
    from shopkit.messaging.relay import Relay
    from shopkit.testing import running

    committed: dict[str, float] = {}
    handled: dict[str, float] = {}
    done = threading.Event()

    def record(event):
        handled[event.data["user_id"]] = time.perf_counter()
        if len(handled) == count:
            done.set()

    consumer = Consumer(service=f"bench{uuid.uuid4().hex[:6]}",
                        handlers={events.USER_REGISTERED: Handler("bench_record", record)}, url=url)
    with running(consumer), running(Relay(url=url, poll_seconds=30)):
        for i in range(count):
            key = f"lat{i}"
            with transaction.atomic():
                emit(events.USER_REGISTERED, {"user_id": key, "email": f"{key}@example.com", "name": "Bench"})
            committed[key] = time.perf_counter()
            time.sleep(interval)  # a steady trickle: latency, not queueing behind a backlog
        done.wait(60)
    samples = sorted((handled[k] - committed[k]) * 1000 for k in committed if k in handled)
    return {
        "events": count,
        "interval_ms": round(interval * 1000),
        "handled": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--latency-events", type=int, default=500)
    parser.add_argument("--latency-interval-ms", type=float, default=20.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--consumer-events", type=int, default=2000)
    parser.add_argument("--consumer-batch-sizes", default="1,32",
                        help="comma-separated; 1 applies one event per transaction (as before batching)")
    args = parser.parse_args()

    from shopkit.testing import throwaway_vhost

    with throwaway_vhost("shopbench") as url:
        setup_django(args.database_url or None)
        from django.db import connection

        results = {
            "database": connection.vendor,
            "relay": bench_relay_throughput(url, args.events),
            "bare_client": bench_bare_client(url, args.events),
            "consumer": [bench_consumer(url, args.consumer_events, int(size))
                         for size in args.consumer_batch_sizes.split(",")],
            "bare_consumer": bench_bare_consumer(url, args.consumer_events),
            "latency": bench_latency(url, args.latency_events, args.latency_interval_ms / 1000),
        }
        print(json.dumps(results, indent=2))
        if args.database_url:
            _drop_server_database()


if __name__ == "__main__":
    main()
