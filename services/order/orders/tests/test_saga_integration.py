"""The whole saga across the product and order services on the real broker, then the invariants of DESIGN.md §4.

The product service's web, consumer and relay run as processes, the order service's consumer and relay in threads.
The product service is driven only through its public HTTP routes and its events, as the contract says; its
SQLite file is read (read-only) just to learn when it has handled a given event.
"""
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from shopkit import events
from shopkit.messaging.consumer import Consumer
from shopkit.messaging.models import OutboxMessage
from shopkit.messaging.relay import Relay
from shopkit import testing
from shopkit.testing import TEST_KID, auth_header, make_token, running, wait_until

from orders import constants
from orders.models import Order, OrderLine, ProductReplica
from orders.tests.support import ADDRESS

PRODUCT_DIR = Path(__file__).resolve().parents[3] / "product"
SETTLE_SECONDS = 30.0  # how long the processes may take to pass an event along on a busy 2-core machine

pytestmark = pytest.mark.django_db(transaction=True)


# --- the product service as processes -----------------------------------------------------------------------------

def _product_missing() -> str:
    needed = ["manage.py", "config/settings.py", "catalog/handlers.py", "catalog/migrations/0001_initial.py"]
    missing = [name for name in needed if not (PRODUCT_DIR / name).exists()]
    return f"services/product is not usable yet: missing {', '.join(missing)}" if missing else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProductService:
    """services/product run from its own folder with its own SQLite file, on the test's vhost."""

    def __init__(self, tmp_path: Path, rabbitmq_url: str):
        self.db_path = tmp_path / "product.sqlite3"
        self.logs = tmp_path / "product-logs"
        self.logs.mkdir()
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")},
            "PRODUCT_DATABASE_URL": f"sqlite:///{self.db_path}",
            "RABBITMQ_URL": rabbitmq_url,
            "SHOP_DATA_DIR": str(tmp_path / "product-data"),
            # the product service trusts the same throwaway key as these tests' tokens
            "SHOP_JWT_PUBLIC_KEY": testing.test_public_pem(),
            "SHOP_JWT_PUBLIC_KEY_ID": TEST_KID,
            "SHOP_CONSUMER_RETRY_BASE_MS": "200",
            "SHOP_OUTBOX_POLL_SECONDS": "0.5",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.staff = {"Authorization": f"Bearer {make_token(role='staff', lifetime=3600)}"}

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=PRODUCT_DIR, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, name: str, *command: str) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(command, cwd=PRODUCT_DIR, env=self.env, stdout=log,
                                                stderr=subprocess.STDOUT)
        log.close()

    def start_all(self) -> None:
        self.start("consumer", sys.executable, "manage.py", "consume_events")
        self.start("relay", sys.executable, "manage.py", "outbox_relay")
        self.start("web", sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", "1", "--threads", "4")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise AssertionError(f"product processes exited: {dead}\n{self.log_tails()}")

    def log_tails(self) -> str:
        return "\n".join(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-20:])
                         for path in sorted(self.logs.iterdir()))

    def http(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, method=method, headers={**self.staff, "Content-Type": "application/json"},
            data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def ready(self) -> bool:
        self.check_alive()
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stock(self, product_id: str) -> dict:
        status, body = self.http("GET", f"/api/v1/products/{product_id}/stock/")
        assert status == 200, body
        return body

    def handled(self, event_id: str) -> bool:
        """Whether the product consumer has applied this event (its inbox has a row for it)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10) as db:
            return db.execute("SELECT 1 FROM shopkit_inbox WHERE event_id = ?", (event_id,)).fetchone() is not None


def _queue_has_consumer(rabbitmq_url: str, queue: str) -> bool:
    """Whether someone consumes ``queue`` yet (asked over AMQP: rabbitmqctl takes seconds per call)."""
    import aio_pika

    async def consumers() -> int:
        connection = await aio_pika.connect(rabbitmq_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return 0  # not declared yet
            return declared.declaration_result.consumer_count

    return asyncio.run(consumers()) > 0


def _publish_raw(rabbitmq_url: str, row: OutboxMessage) -> None:
    """Publish an outbox row exactly as the relay would, ahead of the rows written before it."""
    import aio_pika

    async def publish():
        connection = await aio_pika.connect(rabbitmq_url, timeout=5)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.declare_exchange("shop.events", aio_pika.ExchangeType.TOPIC, durable=True)
            await exchange.publish(aio_pika.Message(
                body=row.body.encode(), content_type="application/cloudevents+json", message_id=str(row.event_id),
                type=row.event_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=row.event_type)

    asyncio.run(publish())


# --- the order side -----------------------------------------------------------------------------------------------

class OrderWorkers:
    """The order service's consumer and relay in threads of this test, each stoppable to stage a race."""

    def __init__(self):
        self.consumer = self.relay = None

    def start_consumer(self):
        self.consumer = running(Consumer(retry_base_ms=200))
        self.consumer.__enter__()

    def stop_consumer(self):
        consumer, self.consumer = self.consumer, None
        consumer.__exit__(None, None, None)

    def start_relay(self):
        self.relay = running(Relay(poll_seconds=0.5))
        self.relay.__enter__()

    def stop_relay(self):
        relay, self.relay = self.relay, None
        relay.__exit__(None, None, None)

    def stop_all(self):
        # Both are stopped even when the first reports an error (which is then raised).
        try:
            if self.consumer is not None:
                self.stop_consumer()
        finally:
            if self.relay is not None:
                self.stop_relay()


def _status(order_id) -> str:
    return Order.objects.get(pk=order_id).status


def _events_of(order_id, event_type) -> list[dict]:
    return [json.loads(row.body) for row in
            OutboxMessage.objects.filter(subject=str(order_id), event_type=event_type).order_by("id")]


def _levels(stock: dict) -> dict:
    return {name: stock[name] for name in ("on_hand", "reserved", "available")}


# --- the test -----------------------------------------------------------------------------------------------------

def test_the_saga_runs_across_product_and_order_and_keeps_the_invariants(client, broker, tmp_path):
    missing = _product_missing()
    if missing:
        pytest.skip(missing)
    product = ProductService(tmp_path, broker)
    migrated = product.manage("migrate", "--noinput")
    if migrated.returncode != 0:
        pytest.skip(f"services/product is not usable yet: `manage.py migrate` failed:\n{migrated.stderr[-2000:]}")

    workers = OrderWorkers()
    customer = auth_header(role="customer", email="ada@example.com", name="Ada Lovelace")
    staff = auth_header(role="staff")

    def place(lines):
        response = client.post("/api/v1/orders/", {"items": lines, "shipping_address": ADDRESS},
                               content_type="application/json", **customer)
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    def act(order_id, action, who):
        response = client.post(f"/api/v1/orders/{order_id}/{action}", {}, content_type="application/json", **who)
        assert response.status_code == 200, response.json()

    def settle(predicate, what):
        product.check_alive()
        try:
            return wait_until(predicate, timeout=SETTLE_SECONDS, interval=0.1)
        except AssertionError:
            raise AssertionError(f"{what} did not happen within {SETTLE_SECONDS} s\n{product.log_tails()}") from None

    try:
        # The order consumer binds its queue before product announces anything; the product consumer binds its
        # queue before the first order.placed is published, so no event goes unrouted.
        workers.start_consumer()
        workers.start_relay()
        product.start_all()
        settle(product.ready, "product web ready")
        settle(lambda: _queue_has_consumer(broker, "product.events"), "product consumer ready")

        initial = {}
        adjustments = Counter()
        ids = {}
        for key, sku, stock in (("pen", "PEN-1", 10), ("ink", "INK-1", 1)):
            status, body = product.http("POST", "/api/v1/products/", {
                "sku": sku, "name": f"Product {sku}", "price": "12.50", "currency": "EUR", "initial_stock": stock})
            assert status == 201, body
            ids[key] = body["id"]
            initial[body["id"]] = stock
        status, body = product.http("POST", f"/api/v1/products/{ids['pen']}/stock/adjustments/",
                                    {"delta": 5, "reason": "restock"})
        assert status == 201, body
        adjustments[ids["pen"]] += 5
        pen, ink = ids["pen"], ids["ink"]
        settle(lambda: ProductReplica.objects.filter(product_id__in=[pen, ink], active=True).count() == 2,
               "product.created reaching the order replica")

        # 1. confirmed: stock is reserved, the order confirmed.
        shipped_order = place([{"product_id": pen, "quantity": 2}])
        settle(lambda: _status(shipped_order) == constants.CONFIRMED, "confirmation of an order in stock")
        assert product.stock(pen)["reserved"] == 2

        # 2. rejected: more than there is; nothing is reserved, the shortage is reported.
        rejected_order = place([{"product_id": ink, "quantity": 3}])
        settle(lambda: _status(rejected_order) == constants.REJECTED, "rejection of an order out of stock")
        [rejected] = _events_of(rejected_order, events.ORDER_REJECTED)
        assert rejected["data"]["shortages"] == [{"product_id": ink, "requested": 3, "available": 1}]
        assert product.stock(ink)["reserved"] == 0

        # 3. cancel after confirmation: product releases the reservation.
        released_order = place([{"product_id": pen, "quantity": 4}])
        settle(lambda: _status(released_order) == constants.CONFIRMED, "confirmation before the cancel")
        assert product.stock(pen)["reserved"] == 6
        act(released_order, "cancel", customer)
        settle(lambda: product.stock(pen)["reserved"] == 2, "release of a cancelled order's reservation")

        # 4. the cancel overtakes the reservation on the order side: stock.reserved reaches a cancelled order.
        workers.stop_consumer()
        overtaken_order = place([{"product_id": pen, "quantity": 3}])
        act(overtaken_order, "cancel", customer)
        [placed] = _events_of(overtaken_order, events.ORDER_PLACED)
        [cancelled] = _events_of(overtaken_order, events.ORDER_CANCELLED)
        settle(lambda: product.handled(placed["id"]) and product.handled(cancelled["id"]),
               "product handling placed and cancelled")
        workers.start_consumer()

        # 5. the cancel overtakes the order on the product side: order.cancelled is delivered before order.placed.
        workers.stop_relay()
        early_cancelled_order = place([{"product_id": pen, "quantity": 5}])
        act(early_cancelled_order, "cancel", staff)
        early_cancel = OutboxMessage.objects.get(subject=early_cancelled_order, event_type=events.ORDER_CANCELLED)
        _publish_raw(broker, early_cancel)
        settle(lambda: product.handled(str(early_cancel.event_id)), "product handling the early cancel")
        workers.start_relay()  # now order.placed goes out, then the same order.cancelled again (a duplicate)
        [late_placed] = _events_of(early_cancelled_order, events.ORDER_PLACED)
        settle(lambda: product.handled(late_placed["id"]), "product handling the late order.placed")

        # 6. one order stays confirmed and holds its reservation; the first one ships and is delivered.
        held_order = place([{"product_id": pen, "quantity": 1}])
        settle(lambda: _status(held_order) == constants.CONFIRMED, "confirmation of the held order")
        act(shipped_order, "ship", staff)
        act(shipped_order, "deliver", staff)
        settle(lambda: product.stock(pen)["on_hand"] == 10 + 5 - 2, "the shipped quantity leaving stock on hand")

        # Let every process drain: wait until order's relay has published everything and the levels are stable.
        settle(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists(), "order outbox drained")
        for order_id in (overtaken_order, early_cancelled_order):
            assert _status(order_id) == constants.CANCELLED
            assert _events_of(order_id, events.ORDER_CONFIRMED) == []

        # The invariants of DESIGN.md §4.
        assert not Order.objects.filter(status=constants.PENDING).exists(), "every order reaches a settled state"
        lines = OrderLine.objects.select_related("order")
        for product_id in (pen, ink):
            shipped = sum(l.quantity for l in lines.filter(
                product_id=product_id, order__status__in=[constants.SHIPPED, constants.DELIVERED]))
            held = sum(l.quantity for l in lines.filter(product_id=product_id, order__status=constants.CONFIRMED))
            expected_on_hand = initial[product_id] + adjustments[product_id] - shipped
            expected = {"on_hand": expected_on_hand, "reserved": held, "available": expected_on_hand - held}
            settle(lambda: _levels(product.stock(product_id)) == expected, f"stock of {product_id} matching the orders")
            levels = product.stock(product_id)
            assert 0 <= levels["reserved"] <= levels["on_hand"]
        assert _levels(product.stock(pen)) == {"on_hand": 13, "reserved": 1, "available": 12}
        for order_id in (shipped_order, rejected_order, released_order, overtaken_order, early_cancelled_order,
                         held_order):
            assert len(_events_of(order_id, events.ORDER_PLACED)) == 1
        product.check_alive()
    finally:
        try:
            product.stop_all()
        finally:
            workers.stop_all()
