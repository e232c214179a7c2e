"""Benchmark: the order saga under load, against a whole shop started the way `make up` starts it.

Usage: .venv/bin/python bench/saga/saga_bench.py [--duration 60] [--clients 16] [--rate 20]
                                                 [--targets order,gateway] [--modes rate,max]
                                                 [--profile SECONDS] [--locust SECONDS] [--keep]

A private shop is started with `deploy/local/up.py --no-install`: its own SHOP_DATA_DIR, ports and RabbitMQ
vhost (removed afterwards), the gateway's per-address rate limits lifted. Databases: SQLite, or whatever the
caller's IDENTITY/PRODUCT/ORDER/EMAIL_DATABASE_URL name (those databases must exist and be empty).

For each target (the order service's own port, and the gateway) and mode ("rate": --rate orders/s in all,
"max": every client as fast as it can), --clients threads place orders for --duration seconds. Then it waits
until every order has settled and prints: orders/s placed and settled, p50/p95/p99 from the POST to
`confirmed` (the order's own status history), and errors. At the end it checks DESIGN.md §4's invariants:
nothing oversold (for every product 0 ≤ reserved ≤ on_hand = initial, reserved = the confirmed quantities),
every order settled, exactly one email per (order, event). Where each order's time went (outbox → relay →
broker → consumer, in both services) comes from the services' outbox/inbox tables, next to two references
measured in the same run: a bare HTTP round trip to the order service and a bare RabbitMQ round trip.
Prints a JSON report last. --profile samples the busy processes with py-spy during one extra "max" run.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy"))
import topology  # noqa: E402  (deploy/topology.py: the shop's local ports)

PYTHON = REPO / ".venv" / "bin" / "python"
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-admin-password"
ADDRESS = {"name": "Bench Customer", "line1": "1 Load Street", "line2": "", "city": "Benchville",
           "postal_code": "12345", "country": "DE"}
PLENTY = 1_000_000  # stock of the ordinary products: never runs out
SCARCE = 40  # stock of the one product that does run out, so some orders are rejected and overselling would show
SETTLED = {"confirmed", "rejected"}
DB_SERVICES = ("identity", "product", "order", "email")


# --- the shop ------------------------------------------------------------------------------------------------
def _order_port(base: int) -> int:
    """The order service's first web port under `make up` on ``base``."""
    return topology.load().service("order").local_web_ports(base)[0]


def stop_launcher(launcher: subprocess.Popen | None) -> None:
    """Stop a shop started with `deploy/local/up.py` as `make up`'s Ctrl-C would (SIGTERM: every process stops
    cleanly); kill its whole session if it has not stopped after 90 s."""
    if launcher and launcher.poll() is None:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)


class Shop:
    def __init__(self, keep: bool):
        self.keep = keep
        self.data_dir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
        self.base = topology.load().free_port_base()
        self.vhost = f"shop-bench-{uuid.uuid4().hex[:8]}"
        self.gateway_url = f"http://127.0.0.1:{self.base + 80}"
        self.order_url = f"http://127.0.0.1:{_order_port(self.base)}"
        self.env = {
            **os.environ,
            "SHOP_DATA_DIR": str(self.data_dir),
            **topology.private_shop_ports(self.base),
            "SHOP_PUBLIC_URL": self.gateway_url,
            "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            "SHOP_ADMIN_EMAIL": ADMIN_EMAIL,
            "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SHOP_DEMO_DATA": "0",
            # a load generator is one address: lift the gateway's per-address limits for the bench
            "SHOP_RATE_API": "100000r/s", "SHOP_RATE_API_BURST": "100000",
            "SHOP_RATE_AUTH": "100000r/s", "SHOP_RATE_AUTH_BURST": "100000",
            "SHOP_RATE_ORDERS": "100000r/s", "SHOP_RATE_ORDERS_BURST": "100000",
        }
        self.databases = {s: self.env.get(f"{s.upper()}_DATABASE_URL", "") or "sqlite" for s in DB_SERVICES}
        self.launcher = None

    def start(self, timeout: float = 300) -> None:
        log = (self.data_dir / "launcher.log").open("w")
        self.launcher = subprocess.Popen([sys.executable, str(REPO / "deploy" / "local" / "up.py"), "--no-install"],
                                         env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        ready = self.data_dir / "run" / "ready.json"
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.launcher.poll() is not None:
                raise RuntimeError("the launcher exited:\n" + (self.data_dir / "launcher.log").read_text()[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError("the shop did not start in time")
            time.sleep(0.5)

    def stop(self) -> None:
        stop_launcher(self.launcher)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def pids(self) -> dict[str, int]:
        """Program name → pid, from supervisorctl."""
        out = subprocess.run([str(REPO / ".venv" / "bin" / "supervisorctl"), "-c",
                              str(self.data_dir / "run" / "supervisord.conf"), "status"],
                             text=True, capture_output=True, timeout=60).stdout
        found = {}
        for line in out.splitlines():
            parts = line.split()
            if "pid" in parts:
                found[parts[0].split(":")[-1]] = int(parts[parts.index("pid") + 1].rstrip(","))
        return found

    def broker_trouble(self, since: float, until: float) -> int:
        """Log lines of the shop's processes saying they lost or could not reach the broker in [since, until]:
        on a shared machine someone else may restart RabbitMQ, and a run that saw it is not a clean number."""
        count = 0
        for path in (self.data_dir / "logs").glob("*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if "the broker" in line and '"timestamp"' in line:
                    try:
                        at = _ts(json.loads(line)["timestamp"])
                    except (ValueError, KeyError):
                        continue
                    count += since <= at <= until
        return count

    def trace(self, service: str) -> list[dict]:
        """The service's outbox, inbox (and status history) rows."""
        script = (Path(__file__).parent / "trace.py").read_text()
        out = subprocess.run([str(PYTHON), "manage.py", "shell", "-c", script], cwd=REPO / "services" / service,
                             env={**self.env, "SHOP_LOG_LEVEL": "ERROR"}, text=True, capture_output=True,
                             timeout=600)
        if out.returncode:
            raise RuntimeError(f"trace of {service} failed: {out.stderr[-2000:]}")
        return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


# --- HTTP -------------------------------------------------------------------------------------------------------
class Client:
    """One keep-alive HTTP/1.1 connection, JSON in and out."""

    def __init__(self, base_url: str):
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method: str, path: str, body=None, token: str | None = None) -> tuple[int, object]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                try:
                    self.conn.request(method, path, body=data, headers=headers)
                except (BrokenPipeError, ConnectionResetError):
                    # the gateway closed an idle keep-alive connection: nothing was received, so even a POST
                    # may go again on a new one
                    self.conn.close()
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                    self.conn.request(method, path, body=data, headers=headers)
                reply = self.conn.getresponse()
                raw = reply.read()
                if reply.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return reply.status, (json.loads(raw) if raw and raw[:1] in (b"{", b"[") else raw)
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2 or method == "POST":
                    raise
        raise AssertionError("unreachable")


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# --- preparing ----------------------------------------------------------------------------------------------------
def prepare(shop: Shop, customers: int, products: int) -> dict:
    gw = Client(shop.gateway_url)
    status, body = gw.request("POST", "/api/v1/auth/token", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert status == 200, (status, body)
    staff = body["access"]
    catalog = []
    for i in range(products + 1):
        scarce = i == products
        status, product = gw.request("POST", "/api/v1/products/", {
            "sku": f"BENCH-{uuid.uuid4().hex[:10]}", "name": f"Bench item {i}", "description": "load",
            "price": f"{random.randint(1, 99)}.50", "currency": "EUR"}, token=staff)
        assert status == 201, (status, product)
        stock = SCARCE if scarce else PLENTY
        status, body = gw.request("POST", f"/api/v1/products/{product['id']}/stock/adjustments/",
                                  {"delta": stock, "reason": "bench"}, token=staff)
        assert status == 201, (status, body)
        catalog.append({"id": product["id"], "initial": stock, "scarce": scarce})

    def register(i):
        client = Client(shop.gateway_url)
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        status, body = client.request("POST", "/api/v1/auth/register",
                                      {"email": email, "password": "Bench-Passw0rd-long!", "name": f"Bench {i}"})
        assert status == 201, (status, body)
        status, body = client.request("POST", "/api/v1/auth/token", {"email": email, "password": "Bench-Passw0rd-long!"})
        assert status == 200, (status, body)
        return body["access"]

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(register, range(customers)))
    # the order service learns of products through product.created: wait until it accepts every one
    warm = []
    for product in catalog:
        deadline = time.monotonic() + 60
        while True:
            status, body = gw.request("POST", "/api/v1/orders/", {
                "items": [{"product_id": product["id"], "quantity": 1}], "shipping_address": ADDRESS},
                token=tokens[0])
            if status == 201:
                warm.append(body["id"])
                break
            assert status in (400, 404, 409, 422) and time.monotonic() < deadline, (status, body)
            time.sleep(0.2)
    return {"staff": staff, "catalog": catalog, "tokens": tokens, "warm_orders": warm}


def order_body(catalog: list[dict]) -> dict:
    ordinary = [p for p in catalog if not p["scarce"]]
    lines = random.sample(ordinary, k=random.randint(1, min(3, len(ordinary))))
    if random.random() < 0.2:  # one order in five also wants the scarce product
        lines.append(catalog[-1])
    return {"items": [{"product_id": p["id"], "quantity": random.randint(1, 3)} for p in lines],
            "shipping_address": ADDRESS}


# --- the load ----------------------------------------------------------------------------------------------------
def run_load(base_url: str, setup: dict, *, clients: int, duration: float, rate: float | None) -> dict:
    """``clients`` threads POST orders for ``duration`` s: at ``rate`` orders/s in all, or as fast as they can."""
    results = []  # (started, finished, status, order id)
    lock = threading.Lock()
    start = time.time() + 0.2
    end = start + duration
    slot = iter(range(10**9))

    def client_loop(index: int):
        client = Client(base_url)
        token = setup["tokens"][index % len(setup["tokens"])]
        mine = []
        while True:
            if rate:
                with lock:
                    n = next(slot)
                due = start + n / rate
                if due >= end:
                    break
                time.sleep(max(0.0, due - time.time()))
            elif time.time() >= end:
                break
            begun = time.time()
            try:
                status, body = client.request("POST", "/api/v1/orders/", order_body(setup["catalog"]), token=token)
                order_id = body.get("id") if status == 201 and isinstance(body, dict) else None
            except (http.client.HTTPException, OSError) as exc:
                status, order_id = f"{type(exc).__name__}", None
            mine.append((begun, time.time(), status, order_id))
        with lock:
            results.extend(mine)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, range(clients)))
    placed = [r for r in results if r[2] == 201]
    errors = Counter(str(r[2]) for r in results if r[2] != 201)
    return {"started": start, "duration": duration, "requests": len(results), "placed": len(placed),
            "errors": dict(errors), "post_ms_p50": _ms(_percentile([r[1] - r[0] for r in placed], 50)),
            "post_ms_p99": _ms(_percentile([r[1] - r[0] for r in placed], 99)),
            "orders": {r[3]: (r[0], r[1]) for r in placed}}


def all_orders(shop: Shop, staff: str) -> dict[str, dict]:
    client = Client(shop.order_url)
    found, page = {}, 1
    while True:
        status, body = client.request("GET", f"/api/v1/orders/?page_size=100&page={page}", token=staff)
        assert status == 200, (status, body)
        for order in body["results"]:
            found[order["id"]] = order
        if not body.get("next"):
            return found
        page += 1


def wait_settled(shop: Shop, setup: dict, timeout: float = 300) -> float:
    """Poll until no order is pending; returns when that was seen."""
    client = Client(shop.order_url)
    deadline = time.time() + timeout
    while True:
        status, body = client.request("GET", "/api/v1/orders/?status=pending&page_size=1", token=setup["staff"])
        if status == 200 and body["count"] == 0:
            break
        if time.time() > deadline:
            break
        time.sleep(0.5)
    return time.time()


def summarize(name: str, load: dict, orders: dict) -> dict:
    latencies, statuses, settle_times = [], Counter(), []
    for order_id, (begun, _finished) in load["orders"].items():
        order = orders.get(order_id) or {}
        statuses[order.get("status", "missing")] += 1
        at = {h["status"]: _ts(h["at"]) for h in order.get("history", [])}
        settled = at.get("confirmed") or at.get("rejected")
        if settled:
            settle_times.append(settled)
        if "confirmed" in at:
            latencies.append(at["confirmed"] - begun)
    span = (max(settle_times) - load["started"]) if settle_times else None
    return {
        "scenario": name, "requests": load["requests"], "placed": load["placed"], "errors": load["errors"],
        "placed_per_s": round(load["placed"] / load["duration"], 1),
        "settled_per_s": round(len(settle_times) / span, 1) if span else None,
        "statuses": dict(statuses),
        "post_ms_p50": load["post_ms_p50"], "post_ms_p99": load["post_ms_p99"],
        "confirmed_ms_p50": _ms(_percentile(latencies, 50)), "confirmed_ms_p95": _ms(_percentile(latencies, 95)),
        "confirmed_ms_p99": _ms(_percentile(latencies, 99)),
        "last_settled_after_s": round(span - load["duration"], 1) if span else None,
    }


# --- invariants --------------------------------------------------------------------------------------------------
def check_invariants(shop: Shop, setup: dict) -> dict:
    gw = Client(shop.gateway_url)
    orders = all_orders(shop, setup["staff"])
    problems = []
    unsettled = [o["id"] for o in orders.values() if o["status"] not in SETTLED]
    if unsettled:
        problems.append(f"{len(unsettled)} orders not settled, e.g. {unsettled[:3]}")
    confirmed_qty = defaultdict(int)
    for order in orders.values():
        if order["status"] == "confirmed":
            for item in order["items"]:
                confirmed_qty[item["product_id"]] += item["quantity"]
    for product in setup["catalog"]:
        status, stock = gw.request("GET", f"/api/v1/products/{product['id']}/stock/", token=setup["staff"])
        assert status == 200, (status, stock)
        if not (0 <= stock["reserved"] <= stock["on_hand"]) or stock["on_hand"] != product["initial"] \
                or stock["reserved"] != confirmed_qty[product["id"]]:
            problems.append(f"stock of {product['id']}: {stock}, confirmed quantities {confirmed_qty[product['id']]}")
    expected = {(o["id"], f"order_{o['status']}") for o in orders.values() if o["status"] in SETTLED}
    deadline = time.time() + 180
    while True:
        emails, page = Counter(), 1
        while True:
            status, body = gw.request("GET", f"/api/v1/emails/?page_size=100&page={page}", token=setup["staff"])
            assert status == 200, (status, body)
            for email in body["results"]:
                if email.get("order_id"):
                    emails[(email["order_id"], email["kind"])] += 1
            if not body.get("next"):
                break
            page += 1
        missing = expected - set(emails)
        doubled = [k for k, n in emails.items() if n > 1]
        extra = set(emails) - expected
        if not missing or time.time() > deadline:
            break
        time.sleep(2)
    if missing:
        problems.append(f"{len(missing)} (order, event) pairs without an email, e.g. {sorted(missing)[:3]}")
    if doubled:
        problems.append(f"{len(doubled)} (order, event) pairs with more than one email, e.g. {doubled[:3]}")
    if extra:
        problems.append(f"{len(extra)} emails for events that did not happen, e.g. {sorted(extra)[:3]}")
    return {"orders": len(orders), "statuses": dict(Counter(o["status"] for o in orders.values())),
            "emails": sum(emails.values()), "ok": not problems, "problems": problems}


# --- where the time goes -----------------------------------------------------------------------------------------
def breakdown(shop: Shop, load: dict) -> dict:
    """Per order of ``load``: POST → order committed → order.placed published → product handled → stock.reserved
    written → published → order handled → confirmed; the median, p95 and p99 of each step (ms)."""
    rows = {s: shop.trace(s) for s in ("order", "product")}
    out_order = {r["subject"]: r for r in rows["order"] if r["t"] == "out" and r["type"] == "order.placed"}
    out_product = {r["subject"]: r for r in rows["product"] if r["t"] == "out" and r["type"] == "stock.reserved"}
    in_product = {r["id"]: r for r in rows["product"] if r["t"] == "in"}
    in_order = {r["id"]: r for r in rows["order"] if r["t"] == "in"}
    confirmed = {r["order"]: r for r in rows["order"] if r["t"] == "status" and r["status"] == "confirmed"}
    steps = defaultdict(list)
    for order_id, (begun, answered) in load["orders"].items():
        placed, reserved = out_order.get(order_id), out_product.get(order_id)
        if not (placed and reserved and placed.get("sent") and reserved.get("sent") and order_id in confirmed):
            continue
        handled_p, handled_o = in_product.get(placed["id"]), in_order.get(reserved["id"])
        if not (handled_p and handled_o):
            continue
        t = [begun, _ts(placed["created"]), answered, _ts(placed["sent"]), _ts(handled_p["processed"]),
             _ts(reserved["created"]), _ts(reserved["sent"]), _ts(handled_o["processed"]),
             _ts(confirmed[order_id]["at"])]
        steps["1 POST → order.placed written (order web, in its transaction)"].append(t[1] - t[0])
        steps["2 written → 201 received by the client"].append(t[2] - t[1])
        steps["3 written → marked sent by the order relay (doorbell, publish, confirm, mark)"].append(t[3] - t[1])
        steps["4 written → product consumer starts handling (relay + broker + queue wait)"].append(t[4] - t[1])
        steps["5 product handling → stock.reserved written (reservation)"].append(t[5] - t[4])
        steps["6 stock.reserved written → marked sent by the product relay"].append(t[6] - t[5])
        steps["7 stock.reserved written → order consumer starts handling"].append(t[7] - t[5])
        steps["8 order handling → confirmed"].append(t[8] - t[7])
        steps["= POST → confirmed"].append(t[8] - t[0])
    return {"orders_traced": len(steps["= POST → confirmed"]),
            "median_ms": {k: _ms(statistics.median(v)) for k, v in sorted(steps.items())},
            "p95_ms": {k: _ms(_percentile(v, 95)) for k, v in sorted(steps.items())},
            "p99_ms": {k: _ms(_percentile(v, 99)) for k, v in sorted(steps.items())}}


def reference_http(shop: Shop, count: int = 300) -> dict:
    client = Client(shop.order_url)
    took = []
    for _ in range(count):
        begun = time.perf_counter()
        client.request("GET", "/healthz")
        took.append(time.perf_counter() - begun)
    return {"order_healthz_ms_p50": _ms(_percentile(took, 50)), "order_healthz_ms_p99": _ms(_percentile(took, 99))}


def reference_broker(shop: Shop, count: int = 300) -> dict:
    """A persistent message through a quorum queue, published with a confirm and consumed: p50 of the round trip."""
    import aio_pika

    async def go():
        connection = await aio_pika.connect(shop.env["RABBITMQ_URL"])
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            queue = await channel.declare_queue(f"bench-ref-{uuid.uuid4().hex[:6]}", durable=True,
                                                arguments={"x-queue-type": "quorum"})
            took = []
            async with queue.iterator() as messages:
                for _ in range(count):
                    begun = time.perf_counter()
                    await channel.default_exchange.publish(
                        aio_pika.Message(b"x", delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue.name)
                    message = await messages.__anext__()
                    await message.ack()
                    took.append(time.perf_counter() - begun)
            await queue.delete(if_unused=False, if_empty=False)
            return took

    took = asyncio.run(go())
    return {"rabbitmq_round_trip_ms_p50": _ms(_percentile(took, 50)),
            "rabbitmq_round_trip_ms_p99": _ms(_percentile(took, 99))}


# --- profiling --------------------------------------------------------------------------------------------------
def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds so far of each program and its children (Linux /proc), and of what else shares
    the cores: supervisord, this bench's own client threads and the broker."""
    found = {name: _tree_cpu_seconds(pid) for name, pid in pids.items()}
    if pids:  # their parent: it also carries every line they log to its log files
        parent = int(Path(f"/proc/{next(iter(pids.values()))}/stat").read_text().rsplit(")", 1)[1].split()[1])
        found["supervisord"] = _own_cpu_seconds(parent)
    own = os.times()
    found["load-generator"] = own.user + own.system
    broker = subprocess.run(["pgrep", "-o", "beam.smp"], capture_output=True, text=True).stdout.split()
    if broker:
        found["rabbitmq"] = _tree_cpu_seconds(int(broker[0]))
    return found


def _tree_cpu_seconds(pid: int) -> float:
    return sum(_own_cpu_seconds(p) for p in [pid, *_children(pid)])


def _own_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return 0.0


def _children(pid: int) -> list[int]:
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def profile_with_py_spy(shop: Shop, seconds: int, folder: Path) -> dict:
    """py-spy samples each saga process (raw collapsed stacks, one file each) while load runs, only the thread
    that holds the GIL (so the samples are where the Python CPU goes, not lock or I/O waits): under `make up`
    a service's consumer and relay (and email's sender) are one process, <service>-worker."""
    spy = shutil.which("py-spy", path=str(REPO / ".venv" / "bin")) or shutil.which("py-spy")
    if not spy:
        return {"error": "py-spy is not installed (make bench installs it)"}
    folder.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name, pid in shop.pids().items():
        saga_process = any(k in name for k in ("worker", "consumer", "relay", "web"))
        if name.split("-")[0] in ("order", "product", "email") and saga_process:
            targets = _children(pid) if "web" in name else [pid]  # gunicorn: the workers, not the master
            for target in targets[:2]:
                out = folder / f"{name}-{target}.txt"
                procs[f"{name}-{target}"] = (subprocess.Popen(
                    [spy, "record", "--pid", str(target), "--duration", str(seconds), "--rate", "200",
                     "--format", "raw", "--output", str(out), "--nonblocking", "--gil"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out)
    return procs


def summarize_profile(procs: dict) -> dict:
    """Per process: samples, and the share of samples in the frames that matter (by self-time, top 12)."""
    summary = {}
    for name, (proc, path) in procs.items():
        proc.wait(timeout=600)
        if not path.exists():
            continue
        total, leaves = 0, Counter()
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            leaves[_frame(frames[-1])] += n
        summary[name] = {"samples": total,
                         "top_self": [(f, round(100 * n / total, 1)) for f, n in leaves.most_common(12)] if total else []}
    return summary


def _frame(frame: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)"
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':')[0]).name})" if where else name


# --- main --------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=float, default=20, help="orders/s in all, for the 'rate' mode")
    parser.add_argument("--targets", default="order,gateway")
    parser.add_argument("--modes", default="rate,max")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy sampling in an extra 'max' run")
    parser.add_argument("--locust", type=int, default=0, help="seconds of the locustfile, headless, after the rest")
    parser.add_argument("--keep", action="store_true", help="keep the shop's data folder (logs) afterwards")
    args = parser.parse_args()

    shop = Shop(keep=args.keep)
    report = {"databases": shop.databases, "clients": args.clients, "duration_s": args.duration,
              "rate": args.rate, "data_dir": str(shop.data_dir), "scenarios": []}
    print(f"starting a shop in {shop.data_dir} (port base {shop.base}, vhost {shop.vhost}, "
          f"databases {shop.databases})", flush=True)
    try:
        t0 = time.time()
        shop.start()
        report["start_s"] = round(time.time() - t0, 1)
        setup = prepare(shop, args.customers, args.products)
        report["references"] = {**reference_http(shop), **reference_broker(shop)}
        print(f"references: {report['references']}", flush=True)
        urls = {"order": shop.order_url, "gateway": shop.gateway_url}
        for target in args.targets.split(","):
            for mode in args.modes.split(","):
                name = f"{target}/{mode}"
                pids = shop.pids()
                before = cpu_seconds(pids)
                load = run_load(urls[target], setup, clients=args.clients, duration=args.duration,
                                rate=args.rate if mode == "rate" else None)
                wait_settled(shop, setup)
                after = cpu_seconds(pids)  # before the listing of every order below, which is the bench's own work
                listed = all_orders(shop, setup["staff"])
                orders = {i: listed.get(i) for i in load["orders"]}
                result = summarize(name, load, orders)
                result["broker_trouble_lines"] = shop.broker_trouble(load["started"], time.time())
                result["load_average_1m"] = round(os.getloadavg()[0], 2)
                span = args.duration + (result["last_settled_after_s"] or 0)
                result["cpu_cores_used"] = {k: round((after[k] - before.get(k, 0)) / span, 2)
                                            for k in sorted(after) if after[k] - before.get(k, 0) > 0.5}
                if target == "order":  # the steps of each order, from the services' own timestamps
                    result["breakdown"] = breakdown(shop, load)
                report["scenarios"].append(result)
                print(json.dumps(result), flush=True)
        if args.profile:
            procs = profile_with_py_spy(shop, args.profile, shop.data_dir / "profile")
            load = run_load(shop.order_url, setup, clients=args.clients, duration=args.profile, rate=None)
            wait_settled(shop, setup)
            report["profile"] = summarize_profile(procs) if isinstance(procs, dict) and "error" not in procs \
                else procs
            report["profile_folder"] = str(shop.data_dir / "profile")
        if args.locust:
            report["locust"] = run_locust(shop, setup, args.locust, args.clients)
        report["invariants"] = check_invariants(shop, setup)
        print(json.dumps(report["invariants"]), flush=True)
    finally:
        shop.stop()
    print(json.dumps(report, indent=1))
    return 0 if report.get("invariants", {}).get("ok") else 1


def run_locust(shop: Shop, setup: dict, seconds: int, users: int) -> dict:
    locust = REPO / ".venv" / "bin" / "locust"
    if not locust.exists():
        return {"error": "locust is not installed (make bench installs it)"}
    csv = shop.data_dir / "locust"
    env = {**os.environ, "BENCH_PRODUCTS": json.dumps([p["id"] for p in setup["catalog"]])}
    result = subprocess.run([str(locust), "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
                             "--users", str(users), "--spawn-rate", str(max(1, users // 4)), "--run-time",
                             f"{seconds}s", "--host", shop.gateway_url, "--csv", str(csv), "--only-summary"],
                            env=env, text=True, capture_output=True, timeout=seconds + 300)
    stats = csv.with_name("locust_stats.csv")
    rows = stats.read_text().splitlines() if stats.exists() else []
    return {"returncode": result.returncode, "stats_csv": rows, "tail": result.stderr[-1500:]}


if __name__ == "__main__":
    sys.exit(main())
