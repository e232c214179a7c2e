"""CPU per order.placed in the product worker: reservation_create in the consumer's batch transactions, timed.

Usage: .venv/bin/python bench/product_reservation/reservation_cpu.py [--orders 2000] [--rounds 3] [--before REV]
    [--database-url URL] [--through service|consumer|both]
Each round runs in a fresh process with a fresh database (a SQLite file in a temp dir, or the PostgreSQL/MySQL
database named by --database-url, made afresh and dropped after) holding a catalog of --products products with
plenty of stock. It times ``time.process_time()`` over --orders reservations of 1–3 lines (the same seeded
orders every round), applied in transactions of --batch orders as the consumer applies a batch:
  service   reservation_create alone, --batch calls per transaction;
  consumer  the whole handling of order.placed events: shopkit's apply_batch (inbox row, handler, service).
and counts the statements one reservation costs (CaptureQueriesContext, the handler's own and the inbox's).
--before REV also runs the product service's code of git revision REV (extracted into a temp dir; shopkit is
this checkout's) in alternating rounds, and prints the ratio of the medians, after / before.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "services" / "product"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32, help="orders per transaction (the consumer's batch)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--through", choices=["service", "consumer", "both"], default="both")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--before", metavar="REV", help="also run services/product of this git revision")
    parser.add_argument("--code", default=str(SERVICE), help=argparse.SUPPRESS)  # a round's service directory
    parser.add_argument("--round", action="store_true", help=argparse.SUPPRESS)  # run one round, print JSON
    args = parser.parse_args()
    if args.round:
        print(json.dumps(one_round(args)))
        return
    codes = {"after": str(SERVICE)}
    with tempfile.TemporaryDirectory() as scratch:
        if args.before:
            codes = {"before": extract(args.before, Path(scratch)), **codes}
        results = {label: [] for label in codes}
        for _ in range(args.rounds):
            for label, code in codes.items():  # alternating, so the machine's noise falls on both alike
                results[label].append(run_round(args, code))
    report(args, results)


def extract(rev: str, into: Path) -> str:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "services/product"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return str(into / "services" / "product")


def run_round(args, code: str) -> dict:
    command = [sys.executable, __file__, "--round", "--code", code, "--orders", str(args.orders),
               "--products", str(args.products), "--batch", str(args.batch), "--through", args.through]
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def report(args, results: dict):
    print(f"{args.orders} orders of 1-3 lines, {args.products} products, {args.batch} per transaction, "
          f"{args.database_url or 'SQLite'}; median of {args.rounds} rounds (process_time per order)")
    medians = {}
    for label, rounds in results.items():
        for path in rounds[0]["us_per_order"]:
            values = [r["us_per_order"][path] for r in rounds]
            medians[label, path] = statistics.median(values)
            print(f"  {label:6} {path:9} {medians[label, path]:8.1f} µs/order   rounds: "
                  f"{', '.join(f'{v:.1f}' for v in values)}   statements/order: {rounds[0]['statements'][path]}")
    if "before" in results:
        for path in results["after"][0]["us_per_order"]:
            print(f"  ratio after/before, {path}: {medians['after', path] / medians['before', path]:.2f}")


# ------------------------------------------------------------------------------------------- one round

def one_round(args) -> dict:
    scratch = tempfile.mkdtemp()
    os.environ.update(SHOP_DATA_DIR=scratch, SHOP_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    if args.database_url:
        os.environ["PRODUCT_DATABASE_URL"] = args.database_url
    sys.path.insert(0, args.code)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.database_url:
        create_server_database()
    call_command("migrate", verbosity=0)
    try:
        products = make_catalog(args.products)
        rng = random.Random(12)
        orders = [[(str(rng.choice(products)), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
                  for _ in range(args.orders)]
        paths = ["service", "consumer"] if args.through == "both" else [args.through]
        result = {"us_per_order": {}, "statements": {}}
        for path in paths:
            seconds, statements = time_orders(path, orders, args.batch)
            result["us_per_order"][path] = seconds * 1e6
            result["statements"][path] = statements
        return result
    finally:
        if args.database_url:
            connection.close()
            drop_server_database()


def make_catalog(count: int) -> list:
    from catalog import services

    return [services.product_create(sku=f"BENCH-{n:04d}", name=f"Bench product {n}", price="9.90",
                                    initial_stock=1_000_000).id for n in range(count)]


def time_orders(path: str, orders: list, batch: int) -> tuple[float, float]:
    """Seconds of CPU per order (the first batch, counted and warming up, not timed) and its statements per order."""
    import uuid

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from catalog import services
    from catalog.handlers import HANDLERS
    from shopkit import events
    from shopkit.envelope import build_event
    from shopkit.messaging.consumer import apply_batch

    prefix = f"{path}-{uuid.uuid4().hex[:8]}-"
    handler = HANDLERS[events.ORDER_PLACED]

    def placed(n, lines):
        items = [{"product_id": pid, "sku": f"BENCH-{i}", "name": f"Item {i}", "quantity": qty,
                  "unit_price": "9.90", "line_total": f"{9.9 * qty:.2f}"} for i, (pid, qty) in enumerate(lines)]
        data = {"order_id": f"{prefix}{n}", "customer_id": str(uuid.uuid4()), "customer_email": "ann@example.com",
                "customer_name": "Ann", "items": items, "total": "1.00", "currency": "EUR"}
        return build_event(events.ORDER_PLACED, data, source="/shop/order", subject=data["order_id"])

    if path == "consumer":
        work = [(placed(n, lines), handler) for n, lines in enumerate(orders)]

        def apply(chunk):
            outcomes = apply_batch(chunk)
            assert all(getattr(outcome, "ran", False) for outcome in outcomes), outcomes
    else:
        work = [(f"{prefix}{n}", lines) for n, lines in enumerate(orders)]

        def apply(chunk):
            with transaction.atomic():
                for order_id, lines in chunk:
                    services.reservation_create(order_id=order_id, items=lines)

    chunks = [work[i:i + batch] for i in range(0, len(work), batch)]
    with CaptureQueriesContext(connection) as captured:  # the first batch: also warms up every code path
        apply(chunks[0])
    statements = sum(1 for q in captured.captured_queries if q["sql"].split()[0] not in ("BEGIN", "COMMIT"))
    statements_per_order = round(statements / len(chunks[0]), 2)
    began = time.process_time()
    for chunk in chunks[1:]:
        apply(chunk)
    seconds = time.process_time() - began
    return seconds / (len(work) - len(chunks[0])), statements_per_order


def create_server_database():
    from django.db import connection

    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")


def drop_server_database():
    from django.db import connection

    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
