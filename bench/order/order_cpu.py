"""CPU per call of the order service's hot paths: POST /api/v1/orders/ through Django's handler, the worker's handlers.

Usage: .venv/bin/python bench/order/order_cpu.py [--calls 2000] [--database-url postgres://postgres@127.0.0.1:5432]
           [--root PATH] [--compare BASE_ROOT [--repeat 3]]

Each checkout measured runs in a process of its own on a throwaway database (a SQLite file in a temp folder, or
a database of its own on the server named by --database-url, dropped afterwards), with the order service's own
settings and logging at INFO (written to /dev/null, so its cost counts). Measured, in `time.process_time()` µs per
call:
- post: POST /api/v1/orders/ (1–3 lines of 50 replica products, a real RS256 access token) through Django's WSGI
  handler, middleware included, the response's JSON body read;
- confirm / reject: the stock.reserved / stock.reservation_failed handler from the handler table, each event in
  its own transaction as the consumer runs it (the consumer's inbox statement not included), on orders placed
  beforehand (untimed);
- email: the email.sent handler (the timeline's record of a message).
Calls run in blocks of 50; a figure is the median over blocks, so a burst of other work on a shared machine sways
one block, not the figure.

--root measures another checkout's code (e.g. an unpacked `git archive` of the base commit) with this script.
--compare runs --root (default: this checkout) and BASE_ROOT side by side, block by block in alternation (ABBA), so
the machine's noise falls on both alike; it prints each one's median per call and the median of the per-block
ratios new/base, for --repeat passes with fresh processes and databases, and their median.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}
MEASURES = ("post", "confirm", "reject", "email")
BLOCK = 50
WARM = 100


def setup_django(root: Path, database_url: str, data_dir: str) -> None:
    sys.path[:0] = [str(root / "services" / "order"), str(root / "libs" / "shopkit")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SHOP_DATA_DIR"] = data_dir
    os.environ["SHOP_LOG_LEVEL"] = "INFO"
    if database_url:
        os.environ["ORDER_DATABASE_URL"] = f"{database_url.rstrip('/')}/bench_order_{uuid.uuid4().hex[:10]}"
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from shopkit.testing import TEST_KID, jwt_test_settings, test_private_key

    for handler in logging.getLogger().handlers:  # logged as in production, written nowhere
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    # The test key, held as a key object like the keys fetched from identity's JWKS (a PEM would be parsed per call)
    settings.SHOPKIT_JWT = {**jwt_test_settings(), "PUBLIC_KEYS": {TEST_KID: test_private_key().public_key()}}
    if database_url:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)


def drop_server_database() -> None:
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def seed_replicas(count: int = 50) -> list[str]:
    from decimal import Decimal

    from orders.models import ProductReplica

    return [ProductReplica.objects.create(product_id=str(uuid.uuid4()), sku=f"SKU-{i}", name=f"Product {i}",
                                          price=Decimal(f"{1 + i * 1.37:.2f}"), currency="EUR", active=True,
                                          version=1).product_id for i in range(count)]


def order_bodies(products: list[str], count: int, seed: int = 12) -> list[bytes]:
    rng = random.Random(seed)
    return [json.dumps({"items": [{"product_id": p, "quantity": rng.randint(1, 3)}
                                  for p in rng.sample(products, k=rng.randint(1, 3))],
                        "shipping_address": ADDRESS}).encode() for _ in range(count)]


def place_orders(products: list[str], count: int) -> list[str]:
    from orders import services

    customer = services.Customer(id=str(uuid.uuid4()), email="ada@example.com", name="Ada Lovelace")
    return [str(services.order_place(customer=customer, items=json.loads(body)["items"], shipping_address=ADDRESS
                                     )[0].id) for body in order_bodies(products, count, seed=34)]


def post_call():
    """A function POSTing one order body through Django's WSGI handler, as gunicorn would call it."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import FakePayload, RequestFactory

    from shopkit.testing import make_token

    handler = WSGIHandler()
    token = make_token(role="customer", email="ada@example.com", name="Ada Lovelace")
    environ = RequestFactory().generic("POST", "/api/v1/orders/", b"", content_type="application/json",
                                       HTTP_AUTHORIZATION=f"Bearer {token}", SERVER_NAME="localhost").environ

    def start_response(status, headers, exc_info=None):
        assert status.startswith("201"), status

    def post(body: bytes) -> None:
        env = dict(environ, CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)),
                   **{"wsgi.input": FakePayload(body)})
        response = handler(env, start_response)
        json.loads(b"".join(response))
        response.close()
    return post


def handle_call(event) -> None:
    from django.db import transaction

    from orders.handlers import HANDLERS

    with transaction.atomic():  # the consumer's transaction
        HANDLERS[event.type](event)


def workloads(calls: int) -> dict:
    """For each measure: (function, its arguments: WARM to warm up with, then `calls` to measure)."""
    from shopkit import events
    from shopkit.envelope import build_event

    products = seed_replicas()
    confirm, reject = (place_orders(products, WARM + calls) for _ in range(2))
    return {
        "post": (post_call(), order_bodies(products, WARM + calls)),
        "confirm": (handle_call, [build_event(events.STOCK_RESERVED, {"order_id": order, "items": []},
                                              source="/shop/product") for order in confirm]),
        "reject": (handle_call, [build_event(events.STOCK_RESERVATION_FAILED, {"order_id": order, "shortages": [
            {"product_id": products[0], "requested": 3, "available": 1}]}, source="/shop/product")
            for order in reject]),
        "email": (handle_call, [build_event(events.EMAIL_SENT, {
            "email_id": str(uuid.uuid4()), "to": "ada@example.com", "kind": "order_confirmed",
            "cause_event_id": str(uuid.uuid4()), "order_id": order}, source="/shop/email") for order in confirm]),
    }


def run_block(function, arguments) -> float:
    """CPU seconds per call of ``function`` over ``arguments``."""
    started = time.process_time()
    for argument in arguments:
        function(argument)
    return (time.process_time() - started) / len(arguments)


class Workbench:
    """One checkout's measures, prepared and warmed, run block by block."""

    def __init__(self, args):
        self.data_dir = tempfile.mkdtemp(prefix="bench-order-")
        setup_django(Path(args.root).resolve(), args.database_url, self.data_dir)
        self.database_url = args.database_url
        self.work = workloads(args.calls)
        self.next = {}
        for name, (function, arguments) in self.work.items():
            run_block(function, arguments[:WARM])  # imports, the key cache, the first statements
            self.next[name] = WARM

    def block(self, name: str) -> float:
        function, arguments = self.work[name]
        start = self.next[name]
        self.next[name] = start + BLOCK
        return run_block(function, arguments[start:start + BLOCK])

    def close(self):
        if self.database_url:
            drop_server_database()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def serve(args) -> None:
    """Worker of --compare: answers each line naming a measure with the CPU per call of its next block."""
    bench = Workbench(args)
    try:
        print("ready", flush=True)
        for line in sys.stdin:
            print(bench.block(line.strip()), flush=True)
    finally:
        bench.close()


def measure(args) -> dict:
    bench = Workbench(args)
    try:
        return {name: round(statistics.median(bench.block(name) for _ in range(args.calls // BLOCK)) * 1e6, 1)
                for name in MEASURES}
    finally:
        bench.close()


def compare_pass(args) -> dict:
    command = [sys.executable, str(HERE), "--serve", "--calls", str(args.calls)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    workers = {name: subprocess.Popen([*command, "--root", root], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
               for name, root in (("new", args.root), ("base", args.compare))}
    try:
        for worker in workers.values():
            assert worker.stdout.readline().strip() == "ready"
        times = {name: {m: [] for m in MEASURES} for name in workers}
        for measure_name in MEASURES:
            for index in range(args.calls // BLOCK):
                # ABBA: neither checkout always runs first
                for name in (("new", "base") if index % 2 == 0 else ("base", "new")):
                    workers[name].stdin.write(measure_name + "\n")
                    workers[name].stdin.flush()
                    times[name][measure_name].append(float(workers[name].stdout.readline()))
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()
    return {m: {"new_us": round(statistics.median(times["new"][m]) * 1e6, 1),
                "base_us": round(statistics.median(times["base"][m]) * 1e6, 1),
                "ratio": round(statistics.median(n / b for n, b in zip(times["new"][m], times["base"][m])), 3)}
            for m in MEASURES}


def compare(args) -> dict:
    passes = []
    for _ in range(args.repeat):
        passes.append(compare_pass(args))
        print(json.dumps(passes[-1]), file=sys.stderr)
    return {"passes": passes,
            "median": {m: {key: statistics.median(p[m][key] for p in passes) for key in ("new_us", "base_us",
                                                                                         "ratio")}
                       for m in MEASURES}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls measured per measure (blocks of 50)")
    parser.add_argument("--database-url", default="", help="a server (no database name): PostgreSQL for order")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code is measured")
    parser.add_argument("--compare", default="", help="a base checkout to measure side by side with --root")
    parser.add_argument("--repeat", type=int, default=3, help="passes of --compare")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
    else:
        print(json.dumps(compare(args) if args.compare else measure(args)))


if __name__ == "__main__":
    main()
