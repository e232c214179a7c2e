#!/usr/bin/env python3
"""The compose test: builds the images, brings compose.yaml up under podman, checks the shop, tears it down.

    python3 tests/compose/run.py            (`make test-compose`; needs root, podman, runc, docker-compose)

1. Builds shop-python and shop-gateway with deploy/containers/build.sh (the base image from debootstrap; the
   CA of an HTTPS-re-signing proxy, $PIP_CERT or $SHOP_BUILD_CA, as a build secret), and stand-ins for the
   official postgres, mariadb, rabbitmq, prometheus and nginx exporter images from Debian packages (they cannot
   be pulled here). Grafana is in the `monitoring` profile, which this test does not start.
2. Runs Debian's docker-compose (1.29: it honours `service_healthy` / `service_completed_successfully`)
   against `podman system service`, with the shipped compose.yaml plus an override that only swaps those
   images. There is no systemd, so podman never runs health checks by itself: a ticker runs
   `podman healthcheck run` for the containers that have one.
3. Waits until every container is healthy and the network's DNS answers promptly (podman 4.3's goes silent
   for a while after containers start: wait_for_the_networks_dns), runs ../shared/contract_smoke.py through
   the gateway's port (published on 127.0.0.1 only), kills a consumer mid-saga and checks that every order
   settles with one email each; then asks Prometheus (published on 127.0.0.1) that every target it scrapes is up, each
   replica of a scaled web service found by DNS, and that the consumers' events-handled counter moved.
4. Removes the containers, volumes, network and this run's image tags, also when a step failed. The images'
   layers stay in the private podman storage (SHOP_CONTAINER_CACHE, default ~/.cache/shop-containers) so
   the next run rebuilds only what changed; delete that folder to start cold.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "deploy"))

import topology  # noqa: E402

CACHE = Path(os.environ.get("SHOP_CONTAINER_CACHE") or Path.home() / ".cache" / "shop-containers")
RUN_ROOT = Path(os.environ.get("SHOP_CONTAINER_RUNROOT") or "/run/shop-containers")  # fixed: podman records it
RUN = f"{os.getpid()}"
PROJECT = f"shopcompose{RUN}"
TAG = f"test-{RUN}"
CONTRACT_SMOKE = REPO.parent / "shared" / "contract_smoke.py"
SUBSTITUTES = {"postgres": "shop-test-postgres", "mariadb": "shop-test-mariadb", "rabbitmq": "shop-test-rabbitmq",
               "prometheus": "shop-test-prometheus", "nginx-exporter": "shop-test-nginx-exporter"}
TIMINGS: dict[str, float] = {}


def log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} compose-test: {text}", flush=True)


def podman_argv() -> list[str]:
    return ["podman", "--root", str(CACHE / "storage"), "--runroot", str(RUN_ROOT)]


def podman(*args: str, check: bool = True, capture: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*podman_argv(), *args], check=check, text=True, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- images ------------------------------------------------------------------------------------------------
def build_images(env: dict) -> None:
    started = time.monotonic()
    build_env = {**env, "CONTAINER_ENGINE": " ".join(podman_argv()), "SHOP_CONTAINER_CACHE": str(CACHE),
                 "SHOP_BASE_IMAGE": "debootstrap"}
    ca = os.environ.get("SHOP_BUILD_CA") or os.environ.get("PIP_CERT")
    if ca and Path(ca).is_file():
        build_env["SHOP_BUILD_CA"] = ca
    subprocess.run(["bash", str(REPO / "deploy" / "containers" / "build.sh"), "dev"], cwd=REPO, env=build_env,
                   check=True)
    TIMINGS["build shop images"] = time.monotonic() - started
    started = time.monotonic()
    for kind, image in SUBSTITUTES.items():
        podman("build", "--format", "docker", "-f", str(HERE / "images" / f"{kind}.Containerfile"),
               "-t", f"{image}:dev", str(REPO), capture=False)
    TIMINGS["build stand-in images"] = time.monotonic() - started
    for image in ("shop-python", "shop-gateway", *SUBSTITUTES.values()):
        podman("tag", f"{image}:dev", f"{image}:{TAG}")
    for image in ("shop-python", "shop-gateway"):
        size = int(podman("image", "inspect", f"{image}:{TAG}", "--format", "{{.Size}}").stdout.strip())
        log(f"{image}: {size / 1e6:.0f} MB")


def override(shop) -> str:
    """The only change to compose.yaml: the official images swapped for the stand-ins (Grafana's is not started)."""
    lines = ["# generated by tests/compose/run.py: stand-ins for images this machine cannot pull", "services:"]
    for service in shop.services:
        lines += [f"  {service.name}-db:", f"    image: \"{SUBSTITUTES[service.database]}:{TAG}\""]
    for name, kind in (("broker", "rabbitmq"), ("prometheus", "prometheus"), ("nginx-exporter", "nginx-exporter")):
        lines += [f"  {name}:", f"    image: \"{SUBSTITUTES[kind]}:{TAG}\""]
    return "\n".join(lines) + "\n"


# --- podman's API for docker-compose, and the health-check ticker ------------------------------------------
class Service:
    """`podman system service` on a socket of this run's own."""

    def __init__(self, folder: Path):
        self.socket = folder / "podman.sock"
        self.process = subprocess.Popen([*podman_argv(), "system", "service", "--time=0", f"unix://{self.socket}"],
                                        stdout=subprocess.DEVNULL, stderr=open(folder / "podman-service.log", "w"))
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("podman system service did not start (see podman-service.log)")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def containers() -> list[dict]:
    out = podman("ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format", "json").stdout
    return json.loads(out or "[]")


def service_of(container: dict) -> str:
    return (container.get("Labels") or {}).get("com.docker.compose.service", "?")


def health(container: dict) -> str:
    """starting / healthy / unhealthy, or "" for a container without a health check."""
    status = container.get("Status") or ""
    for word in ("starting", "unhealthy", "healthy"):
        if f"({word})" in status:
            return word
    return ""


class Ticker(threading.Thread):
    """Runs the health checks podman would run under systemd: each second for containers not yet healthy, every
    HEALTHY_EVERY seconds for healthy ones (so one that breaks is noticed). Each check is a `podman exec`, which
    costs far more CPU than the check itself: on a loaded 2-core machine, checking two dozen healthy containers
    every few seconds starves the shop under test."""

    HEALTHY_EVERY = 30

    def __init__(self):
        super().__init__(name="health-ticker", daemon=True)
        self.stop = threading.Event()
        self.last: dict[str, float] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                now = time.monotonic()
                due = []
                for c in containers():
                    state, kind = c.get("State"), health(c)
                    if state != "running" or not kind:
                        continue
                    if kind != "healthy" or now - self.last.get(c["Id"], 0) >= self.HEALTHY_EVERY:
                        self.last[c["Id"]] = now
                        due.append(c["Id"])
                list(self.pool.map(lambda cid: podman("healthcheck", "run", cid, check=False, timeout=60), due))
            except Exception as exc:  # noqa: BLE001 - the ticker must outlive a podman hiccup
                log(f"ticker: {exc!r}")


# --- the shop's API, through the gateway --------------------------------------------------------------------
class Api:
    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        for _ in range(30):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, raw = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, raw = exc.code, exc.read()
                if status == 429:
                    time.sleep(float(exc.headers.get("Retry-After") or 1))
                    continue
            return status, (json.loads(raw) if raw else None)
        raise AssertionError(f"{method} {path}: still rate limited")

    def token(self, email: str, password: str) -> str:
        status, body = self.call("POST", "/api/v1/auth/token", {"email": email, "password": password})
        assert status == 200, f"login {email}: {status} {body}"
        return body["access"]


def wait_for(predicate, seconds: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s: {what}")
        time.sleep(interval)


# --- the steps ----------------------------------------------------------------------------------------------
def wait_healthy(shop, seconds: float) -> None:
    one_shots = {f"{s.name}-migrate" for s in shop.services} | {f"{s.name}-seed" for s in shop.services if s.seed} \
        | {f"{s.name}-declare" for s in shop.services if s.consumes} | {"broker-users"}  # the services' broker users

    def settled():
        listing = containers()
        failed = [service_of(c) for c in listing if service_of(c) in one_shots and c.get("State") == "exited"
                  and c.get("ExitCode") not in (0, None)]
        if failed:
            raise AssertionError(f"one-shot containers failed: {failed}")
        # a container without a health check (the nginx exporter: its image has no client to run one) only runs
        pending = [f"{service_of(c)}:{c.get('State')}/{health(c) or '-'}" for c in listing
                   if service_of(c) not in one_shots and (c.get("State") != "running" or health(c) not in ("healthy", ""))]
        return not pending and listing

    try:
        wait_for(settled, seconds, "every container healthy")
    except AssertionError:
        for c in containers():
            log(f"  {service_of(c)}: {c.get('State')} {c.get('Status')}")
        raise


DNS_QUIET_ROUNDS = 6  # rounds in a row: past glibc's five seconds, so a lookup begun in the outage has retried
DNS_PROBE = """
import socket, sys, time
deadline, QUIET, names, quiet = time.monotonic() + float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:], 0
while quiet < QUIET and time.monotonic() < deadline:
    began = time.monotonic()
    for name in names:
        try:
            socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            print(f"{name}: {exc}", flush=True)
    took = time.monotonic() - began
    quiet = quiet + 1 if took < 0.5 else 0
    print(f"{time.strftime('%H:%M:%S')} every name in {took:.2f}s", flush=True)
    time.sleep(1)
sys.exit(0 if quiet >= QUIET else 1)
"""


def wait_for_the_networks_dns(seconds: float) -> None:
    """Waits until the network's DNS server answers for every service DNS_QUIET_ROUNDS rounds running, from inside a web
    container. Podman's aardvark-dns (1.4, Debian 12's) stops answering altogether for up to half a minute after
    containers on the network start and stop (containers/aardvark-dns#389; measured in
    deploy/containers/README.md), and that can outlast the health checks: a replica's first request then hangs
    on its database's name, or finds no key because fetching identity's JWKS hung. That is this machine's podman,
    not the shop (Docker's embedded DNS does not do it), so the test waits it out and says how long it took."""
    running = [c for c in containers() if c.get("State") == "running"]
    names = sorted({service_of(c) for c in running})
    web = next(c for c in running if service_of(c).endswith("-web"))
    probe = subprocess.run([*podman_argv(), "exec", web["Id"], "python3", "-c", DNS_PROBE, str(seconds),
                            str(DNS_QUIET_ROUNDS), *names],
                           text=True, capture_output=True, timeout=seconds + 30)
    if probe.returncode != 0:
        raise AssertionError(f"the network's DNS did not settle in {seconds:.0f}s:\n{probe.stdout}{probe.stderr}")
    rounds = probe.stdout.count("every name in")
    if rounds > DNS_QUIET_ROUNDS:
        log(f"the network's DNS settled after {rounds - DNS_QUIET_ROUNDS} slow round(s):\n{probe.stdout.rstrip()}")


def kill_a_consumer_mid_saga(api: Api, compose, admin: tuple[str, str], orders: int = 8) -> None:
    staff = api.token(*admin)
    status, product = api.call("POST", "/api/v1/products/", {"sku": f"COMPOSE-{RUN}", "name": "Compose test",
                                                              "description": "", "price": "5.00",
                                                              "currency": "EUR"}, token=staff)
    assert status == 201, (status, product)
    status, _ = api.call("POST", f"/api/v1/products/{product['id']}/stock/adjustments/",
                         {"delta": 100, "reason": "compose test"}, token=staff)
    assert status == 201
    email, password = f"saga-{RUN}@example.com", "a-long-password-1"
    status, _ = api.call("POST", "/api/v1/auth/register", {"email": email, "password": password, "name": "Saga"})
    assert status == 201
    customer = api.token(email, password)
    body = {"items": [{"product_id": product["id"], "quantity": 1}],
            "shipping_address": {"name": "Saga", "line1": "1 Main St", "line2": "", "city": "Town",
                                 "postal_code": "12345", "country": "DE"}}
    placed = []
    victim = next(c for c in containers() if service_of(c) == "product-consumer")
    for index in range(orders):
        status, order = wait_for(lambda: (r := api.call("POST", "/api/v1/orders/", body, token=customer,
                                                        headers={"Idempotency-Key": f"{RUN}-{index}"}))[0] == 201
                                 and r, 30, "an order placed")
        placed.append(order["id"])
        if index == orders // 2:
            log(f"killing product-consumer ({victim['Id'][:12]}) with SIGKILL, mid-saga")
            podman("kill", "--signal", "KILL", victim["Id"])
    time.sleep(3)  # the orders wait in the consumer's queue meanwhile
    compose("start", "product-consumer")

    def statuses():
        return [api.call("GET", f"/api/v1/orders/{oid}/", token=customer)[1]["status"] for oid in placed]
    wait_for(lambda: all(s == "confirmed" for s in statuses()), 120, "every order confirmed after the kill")
    status, stock = api.call("GET", f"/api/v1/products/{product['id']}/stock/", token=staff)
    assert (stock["on_hand"], stock["reserved"]) == (100, orders), f"stock after the kill: {stock}"

    def emails(oid):
        status, page = api.call("GET", f"/api/v1/emails/?order_id={oid}", token=staff)
        return page["results"] if status == 200 else []
    wait_for(lambda: all(len(emails(oid)) >= 1 and all(e["status"] == "sent" for e in emails(oid)) for oid in placed),
             120, "a sent confirmation email for every order")
    time.sleep(5)  # a redelivered event would add a second email by now
    counts = {oid: len(emails(oid)) for oid in placed}
    assert all(n == 1 for n in counts.values()), f"emails per order after the kill: {counts}"
    log(f"{orders} orders confirmed, stock reserved {orders}, one email each, across a SIGKILLed consumer")


def prometheus_sees_the_shop(base: str, shop) -> None:
    """Every target up (the shop's processes, each web replica found by DNS, RabbitMQ, the gateway's exporter,
    Prometheus), and the pipeline's counter moved: the saga's events were handled and scraped."""
    def get(path: str) -> dict:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    expected = {p.name: p.replicas for s in shop.services for p in s.processes}

    def all_up():
        targets = get("/api/v1/targets?state=active")["activeTargets"]
        down = [(t["scrapeUrl"], t["health"], t.get("lastError")) for t in targets if t["health"] != "up"]
        shop_targets = {}
        for t in targets:
            if t["labels"].get("job") == "shop":
                shop_targets[t["labels"]["process"]] = shop_targets.get(t["labels"]["process"], 0) + 1
        jobs = {t["labels"]["job"] for t in targets}
        return (not down and shop_targets == expected
                and {"rabbitmq", "rabbitmq-queues", "gateway", "prometheus"} <= jobs) and targets
    try:
        targets = wait_for(all_up, 90, "every Prometheus target up", interval=3)
    except AssertionError:
        for t in get("/api/v1/targets?state=active")["activeTargets"]:
            log(f"  target {t['labels'].get('job')} {t['scrapeUrl']}: {t['health']} {t.get('lastError')}")
        raise
    up = get("/api/v1/query?query=up")["result"]
    assert up and all(r["value"][1] == "1" for r in up), f"up: {up}"
    handled = wait_for(lambda: get("/api/v1/query?query=sum(shop_events_handled_total)")["result"], 60,
                       "shop_events_handled_total scraped", interval=3)
    assert float(handled[0]["value"][1]) > 0, f"events handled: {handled}"
    log(f"Prometheus: {len(targets)} targets up (web replicas by DNS), "
        f"{float(handled[0]['value'][1]):.0f} events handled")


def main() -> int:
    if os.geteuid() != 0:
        print("the compose test needs root (podman networking with netavark on these machines)", file=sys.stderr)
        return 1
    for tool in ("podman", "runc", "docker-compose", "debootstrap"):
        if not shutil.which(tool):
            print(f"missing {tool}: run `make system-deps` (scripts/system-packages.sh)", file=sys.stderr)
            return 1
    started = time.monotonic()
    shop = topology.load()
    CACHE.mkdir(parents=True, exist_ok=True)
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shop-compose-"))
    env = {**os.environ, "CONTAINERS_CONF": str(HERE / "containers.conf")}
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    ports = {name: free_port() for name in ("SHOP_HTTP_PORT", "SHOP_HTTPS_PORT", "SHOP_RABBITMQ_UI_PORT",
                                            "SHOP_MAILBOX_PORT", "SHOP_PROMETHEUS_PORT", "SHOP_GRAFANA_PORT")}
    env_file = work / "compose.env"
    subprocess.run([sys.executable, str(REPO / "deploy" / "containers" / "compose_env.py"), str(env_file)],
                   check=True, capture_output=True)
    with env_file.open("a") as f:
        f.write(f"SHOP_IMAGE_TAG={TAG}\nSHOP_BIND_ADDRESS=127.0.0.1\n"
                f"SHOP_PUBLIC_URL=http://127.0.0.1:{ports['SHOP_HTTP_PORT']}\n"
                + "".join(f"{k}={v}\n" for k, v in ports.items()))
    secrets = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line and line[0] != "#")
    (work / "override.yaml").write_text(override(shop))
    service = ticker = None
    compose_env = {**env, "DOCKER_HOST": f"unix://{work / 'podman.sock'}", "COMPOSE_HTTP_TIMEOUT": "300"}

    def compose(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["docker-compose", "-p", PROJECT, "--project-directory", str(REPO),
                               "-f", str(REPO / "compose.yaml"), "-f", str(work / "override.yaml"),
                               "--env-file", str(env_file), *args], env=compose_env, check=check, cwd=REPO)
    ok = False
    try:
        build_images(env)
        service = Service(work)
        ticker = Ticker()
        ticker.start()
        up = time.monotonic()
        log("docker-compose up -d (waits for the health and completion conditions)")
        compose("up", "-d", "--no-build")
        wait_healthy(shop, 420)
        TIMINGS["compose up → every container healthy"] = time.monotonic() - up
        log(f"every container healthy after {TIMINGS['compose up → every container healthy']:.0f}s")
        dns_wait = time.monotonic()
        wait_for_the_networks_dns(120)
        TIMINGS["network DNS settled"] = time.monotonic() - dns_wait
        base = f"http://127.0.0.1:{ports['SHOP_HTTP_PORT']}"
        smoke = subprocess.run([sys.executable, str(CONTRACT_SMOKE), base], env={
            **os.environ, "SHOP_ADMIN_EMAIL": "admin@example.com", "SHOP_ADMIN_PASSWORD": secrets["SHOP_ADMIN_PASSWORD"]})
        assert smoke.returncode == 0, "contract_smoke.py failed (its FAIL lines are above)"
        kill_a_consumer_mid_saga(Api(base), compose, ("admin@example.com", secrets["SHOP_ADMIN_PASSWORD"]))
        prometheus_sees_the_shop(f"http://127.0.0.1:{ports['SHOP_PROMETHEUS_PORT']}", shop)
        ok = True
    except (AssertionError, subprocess.CalledProcessError, RuntimeError) as exc:
        log(f"FAILED: {exc}")
        if service is not None:
            compose("ps", check=False)
            artifacts = REPO / "test-artifacts" / f"compose-{RUN}"
            artifacts.mkdir(parents=True, exist_ok=True)
            with (artifacts / "compose.log").open("w") as out:
                subprocess.run(["docker-compose", "-p", PROJECT, "--project-directory", str(REPO),
                                "-f", str(REPO / "compose.yaml"), "-f", str(work / "override.yaml"),
                                "--env-file", str(env_file), "logs", "--no-color", "--timestamps"],
                               env=compose_env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
            log(f"every container's log: {artifacts / 'compose.log'}")
    finally:
        if ticker is not None:
            ticker.stop.set()
        log("tearing down (containers, volumes, network, this run's image tags)")
        if service is not None:
            compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)
            service.stop()
        for image in ("shop-python", "shop-gateway", *SUBSTITUTES.values()):
            podman("rmi", f"{image}:{TAG}", check=False)
        # builds superseded days ago; younger layers stay as the build cache (a plain prune would drop it too)
        podman("image", "prune", "-f", "--filter", "until=72h", check=False)
        leftovers = [c for c in containers()] if shutil.which("podman") else []
        if leftovers:
            log(f"left over: {[service_of(c) for c in leftovers]}")
            ok = False
        shutil.rmtree(work, ignore_errors=True)
    TIMINGS["whole test"] = time.monotonic() - started
    for what, seconds in TIMINGS.items():
        log(f"time: {what}: {seconds:.0f}s")
    log("passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
