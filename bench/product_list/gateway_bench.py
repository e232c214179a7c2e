"""Benchmark: issue 12's catalog rows, through the gateway `make up` renders, each next to its reference in one run.

Usage: .venv/bin/python bench/product_list/gateway_bench.py [--seconds 10] [--rounds 1] [--connections 16]
                                                            [--profile-nginx] [--keep]

A private shop is started the way the saga bench starts one (bench/saga/saga_bench.py's Shop: `deploy/local/up.py
--no-install`, its own SHOP_DATA_DIR, ports and RabbitMQ vhost, the per-address rate limits lifted), seeded with
the demo catalog. Beside it, references on the same machine at the same time:
- **nginx static**: an nginx of the bench's own (same worker count as the gateway) answering `return 200`, and
  the same nginx serving a static file as large as the cached page (what the payload alone costs);
- **values()**: a plain Django view returning `values()` of 20 products (bench_urls.py), under gunicorn with the
  services' own gunicorn settings, reached directly (no gateway), reading the shop's own product database.
Then wrk (2 threads, --connections) measures, round after round:
- the gateway's cached anonymous list (`/api/v1/products/`)                     → ratio to nginx static
- the same list with a cache-busting argument new on every request (`?_=<random>`) → ratio to values()
- the list with a filter value new on every request (`max_price=99999998.<random>`: the same 20 rows, but a page
  nothing has cached, at the gateway or in the service: the page rendered afresh)  → ratio to values()
For each it prints req/s, p50/p99 latency, non-2xx answers, the gateway's X-Cache-Status of a sample request and
the CPU the nginx workers (gateway or reference) and the product web workers spent per request; then each ratio
twice: from the best round of each scenario, and round by round (a scenario and its reference within one round,
about half a minute apart: the pairing least moved by what else the shared machine runs). --profile-nginx
records the gateway's workers with `perf` (Debian's linux-perf) during round 1's cached scenario and prints where
their time went.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "saga"))

from saga_bench import Shop  # noqa: E402  (the saga bench's shop, started as `make up` starts one)
from topology import port_free  # noqa: E402  (saga_bench put deploy/ on the path)

TICKS = os.sysconf("SC_CLK_TCK")
STATIC_CONF = """\
worker_processes auto;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
        location = /page.json {{ root {run}; open_file_cache max=10; }}
    }}
}}
"""


# (what, scenario, its reference, the goal): the ratios the bench prints
RATIOS = [
    ("gateway cached / nginx static", "cached", "static", "  (goal ≥ 0.5)"),
    ("gateway cached / static file, same size", "cached", "file", ""),
    ("gateway cache buster / values() direct", "buster", "values", "  (goal ≥ 1.0)"),
    ("gateway rendered afresh / values()", "afresh", "values", ""),
]


def _port() -> int:
    for port in range(18100, 19000):
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], text=True, capture_output=True).stdout
    return [int(p) for p in out.split()]


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


class StaticNginx:
    """The reference: nginx doing nothing but `return 200`, with the gateway's worker count."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, _port()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "nginx.conf").write_text(STATIC_CONF.format(run=folder, port=self.port))
        self.process = subprocess.Popen(["nginx", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"),
                                         "-e", str(folder / "error.log")])
        self.url = f"http://127.0.0.1:{self.port}/"
        _wait(self.url)

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def serve_file(self, body: bytes) -> str:
        """The URL of a static file with ``body``: what nginx costs for a page of that size and nothing else."""
        (self.folder / "page.json").write_bytes(body)
        # run as root, nginx's workers are `nobody`: they must be able to read it
        self.folder.chmod(0o755)
        (self.folder / "page.json").chmod(0o644)
        return self.url + "page.json"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=30)


class ValuesBaseline:
    """The reference: bench_urls.py's plain values() view under gunicorn with the services' settings, reading
    the shop's product database (the same rows the gateway serves)."""

    def __init__(self, shop: Shop):
        self.port = _port()
        env = {**shop.env, "DJANGO_SETTINGS_MODULE": "bench_settings", "SHOP_LOG_LEVEL": "WARNING",
               "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO / "services" / "product")]),
               "SHOP_PROCESS_NAME": "bench-values-web"}
        self.process = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--config", "python:shopkit.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"],
            cwd=REPO / "services" / "product", env=env)
        self.url = f"http://127.0.0.1:{self.port}/bench/values/"
        _wait(self.url)

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@dataclass
class Scenario:
    name: str
    url: str
    script: Path | None = None  # wrk's Lua script: a URL of its own per request
    nginx_workers: Callable[[], list[int]] | None = None  # whose CPU per request the nginx column shows
    probe: Callable[[], str] | None = None  # a URL like the scenario's requests: its X-Cache-Status is shown


def wrk(url: str, *, seconds: int, connections: int, script: Path | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, text=True, capture_output=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "requests": requests,
            "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
            "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0, "socket_errors": errors.group(1) if errors else ""}


def profile(pids: list[int], seconds: int, folder: Path) -> subprocess.Popen:
    """`perf record` of ``pids`` for ``seconds``, started beside the scenario's wrk; report() reads it."""
    return subprocess.Popen(["perf", "record", "-q", "-F", "999", "-o", str(folder / "perf.data"),
                             "-p", ",".join(map(str, pids)), "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def report(recording: subprocess.Popen, folder: Path, lines: int = 25) -> None:
    """Prints the recording's shares by binary (summed from its symbol rows: one `perf report`) and by symbol, or
    why there is none (perf's own words: no permission under perf_event_paranoid, no such pid, …)."""
    _, record_errors = recording.communicate(timeout=60)
    if recording.returncode != 0:
        print(f"perf record failed (exit {recording.returncode}): {record_errors.strip()}", flush=True)
        return
    read = subprocess.run(["perf", "report", "-i", str(folder / "perf.data"), "--no-children", "--sort",
                           "dso,symbol", "--stdio", "-g", "none"], text=True, capture_output=True)
    if read.returncode != 0:
        print(f"perf report failed (exit {read.returncode}): {read.stderr.strip()}", flush=True)
        return
    rows: list[tuple[float, str, str]] = []  # share, binary, symbol
    by_binary: dict[str, float] = {}
    for line in read.stdout.splitlines():
        row = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(.*?)(\s+-)*$", line)  # some perfs add empty "-" columns
        if row and not line.startswith("#"):
            rows.append((float(row[1]), row[2], row[3]))
            by_binary[row[2]] = by_binary.get(row[2], 0.0) + float(row[1])
    print("perf, the gateway's workers during the cached scenario (share by binary, then by symbol):")
    for binary, share in sorted(by_binary.items(), key=lambda item: -item[1]):
        print(f"  {share:6.2f}%  {binary}")
    for share, binary, symbol in rows[:lines]:
        print(f"  {share:6.2f}%  {binary:24} {symbol}")
    sys.stdout.flush()


def sample(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers.get("X-Cache-Status", "-"), response.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per scenario")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the shop's data folder (logs) afterwards")
    parser.add_argument("--profile-nginx", action="store_true",
                        help="perf record the gateway's workers during round 1's cached scenario")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        print("wrk and nginx are needed (bench/product_list/run.sh installs wrk)", file=sys.stderr)
        return 2
    if args.profile_nginx and not shutil.which("perf"):
        print("--profile-nginx needs perf (Debian's linux-perf)", file=sys.stderr)
        return 2

    shop = Shop(keep=args.keep)
    shop.env["SHOP_DEMO_DATA"] = "1"  # the demo catalog: 50 products, 20 a page
    scratch = Path(tempfile.mkdtemp(prefix="shop-bench-static-"))
    static = baseline = None
    print(f"starting a shop in {shop.data_dir} (port base {shop.base}, product database "
          f"{shop.databases['product']})", flush=True)
    try:
        shop.start()
        static, baseline = StaticNginx(scratch), ValuesBaseline(shop)
        gateway = shop.gateway_url + "/api/v1/products/"
        _wait(gateway)
        pids = shop.pids()
        gateway_nginx = [pid for name, pid in pids.items() if name == "gateway"]
        product_web = [pid for name, pid in pids.items() if name.startswith("product-web")]
        # whether a cache-busting argument gets the cached page itself (it did not before issue 12: its links
        # carried the buster)
        same = sample(gateway + "?_=check")[1] == sample(gateway)[1]
        print(f"a cache buster gets the same page: {'yes' if same else 'NO'}", flush=True)
        def gateway_workers():
            return _children(gateway_nginx[0])

        scenarios = {
            "static": Scenario("nginx static `return 200` (reference)", static.url, nginx_workers=static.workers),
            "values": Scenario("values() 20 rows, gunicorn direct (reference)", baseline.url),
            "file": Scenario("nginx static file of the cached page's size", static.serve_file(sample(gateway)[1]),
                             nginx_workers=static.workers),
            "cached": Scenario("gateway: list, cached", gateway, nginx_workers=gateway_workers,
                               probe=lambda: gateway),
            "buster": Scenario("gateway: list + cache buster ?_=<random>", gateway + "?page=1", HERE / "bust.lua",
                               gateway_workers, lambda: gateway + f"?page=1&_={random.randrange(10**9)}"),
            "afresh": Scenario("gateway: list, rendered afresh (new max_price)", gateway + "?page=1",
                               HERE / "miss.lua", gateway_workers,
                               lambda: gateway + f"?page=1&max_price=99999998.{random.randrange(10**9)}"),
        }
        print(f"wrk: 2 threads, {args.connections} connections, {args.seconds}s per scenario; "
              f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        header = f"{'scenario':50} {'req/s':>9} {'p50':>9} {'p99':>9} {'nginx µs/req':>12} {'web ms/req':>10}  cache"
        rounds: list[dict[str, float]] = []
        for round_number in range(1, args.rounds + 1):
            rounds.append({})
            print(f"-- round {round_number}\n{header}", flush=True)
            for key, scenario in scenarios.items():
                nginx_pids = scenario.nginx_workers() if scenario.nginx_workers else []
                web_pids = [c for pid in product_web for c in _children(pid)] + baseline.workers()
                before_nginx, before_web = _cpu_ticks(nginx_pids), _cpu_ticks(web_pids)
                recording = profile(nginx_pids, args.seconds - 1, scratch) \
                    if args.profile_nginx and key == "cached" and round_number == 1 else None
                result = wrk(scenario.url, seconds=args.seconds, connections=args.connections, script=scenario.script)
                nginx_us = f"{(_cpu_ticks(nginx_pids) - before_nginx) / TICKS * 1e6 / result['requests']:.0f}" \
                    if nginx_pids else "-"
                web_ms = (_cpu_ticks(web_pids) - before_web) / TICKS * 1e3 / result["requests"]
                cache = sample(scenario.probe())[0] if scenario.probe else ""
                rounds[-1][key] = result["rps"]
                trouble = (f"  non-2xx {result['non_2xx']}" if result["non_2xx"] else "") + \
                          (f"  socket errors {result['socket_errors']}" if result["socket_errors"] else "")
                print(f"{scenario.name:50} {result['rps']:9.0f} {result['p50']:>9} {result['p99']:>9} "
                      f"{nginx_us:>12} {web_ms:10.2f}  {cache}{trouble}", flush=True)
                if recording:
                    report(recording, scratch)
        print(f"load average after: {os.getloadavg()[0]:.2f}\nratios: best round of each | round by round")
        best = {key: max(r[key] for r in rounds) for key in scenarios}
        for label, scenario, reference, goal in RATIOS:
            by_round = " ".join(f"{r[scenario] / r[reference]:.2f}" for r in rounds)
            print(f"  {label:40} {best[scenario] / best[reference]:6.2f} | {by_round}{goal}")
    finally:
        for reference in (static, baseline):
            if reference is not None:
                reference.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        shop.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
