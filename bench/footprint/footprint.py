"""Benchmark: how long `make up` takes to be ready, and how much memory the whole shop holds when idle.

Usage: .venv/bin/python bench/footprint/footprint.py [--settle 15] [--runs warm-count] [--keep] [--json PATH]

A private shop is started the way `make up` starts it (`python3 deploy/local/up.py --no-install`: its own
SHOP_DATA_DIR, ports and RabbitMQ vhost, removed afterwards; SQLite; the demo catalog seeded):
- cold: the first start on an empty data folder (migrations, seeds), launch → ready (run/ready.json);
- warm: the next start with the data kept (`--warm` times; the median is reported), launch → ready.
After the first warm start has been idle for --settle seconds, every process of the shop's tree (the launcher,
supervisord, every program and its children) is measured from /proc/<pid>/smaps_rollup: RSS (resident pages,
shared ones counted in every process that maps them) and PSS (each shared page split between its sharers: the
sum is what the shop really holds). Grouped per program (run/pids/<name>.pid names each program's process).

References, measured in the same run on the same machine:
- one bare Django process: the product service's settings, `django.setup()`, then idle — its RSS and PSS;
- one bare `manage.py check` of the product service — its wall time and CPU time (a Django start-up).
Start-up is reported both as wall time and as CPU seconds (every process of the tree until ready): on a shared
machine the wall time mostly says how busy the others are, the CPU what the start itself costs.
The launcher's own step timings (its "done in" lines) of the warm start are printed too.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
sys.path.insert(0, str(REPO / "deploy"))
import topology  # noqa: E402  (deploy/topology.py: the free port base of a private shop)
sys.path.insert(0, str(REPO / "bench" / "saga"))
from saga_bench import stop_launcher  # noqa: E402  (the saga bench's way to stop a shop)

ADMIN_EMAIL, ADMIN_PASSWORD = "footprint-admin@example.com", "footprint-admin-password"
OUTSIDE = ("launcher", "supervisord")  # the records that are not programs


# --- /proc ---------------------------------------------------------------------------------------------------
def memory_kib(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) of ``pid`` in KiB from smaps_rollup; None when it is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    found = dict(re.findall(r"^(Rss|Pss):\s+(\d+) kB", text, re.M))
    return int(found.get("Rss", 0)), int(found.get("Pss", 0))


def children_of() -> dict[int, list[int]]:
    """parent pid → child pids, for every process now."""
    tree = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree[parent].append(int(entry.name))
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its children it has waited for (user + system), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, ()))
    return found


# --- the shop ------------------------------------------------------------------------------------------------
class Shop:
    def __init__(self, keep: bool):
        self.keep = keep
        self.data_dir = Path(tempfile.mkdtemp(prefix="shop-footprint-"))
        self.shape = topology.load()
        self.base = self.shape.free_port_base()
        self.vhost = f"shop-footprint-{uuid.uuid4().hex[:8]}"
        ports = topology.private_shop_ports(self.base)
        self.env = {**os.environ, "SHOP_DATA_DIR": str(self.data_dir), **ports,
                    "SHOP_PUBLIC_URL": f"http://127.0.0.1:{ports['SHOP_HTTP_PORT']}",
                    "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
                    "SHOP_ADMIN_EMAIL": ADMIN_EMAIL, "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD, "SHOP_DEMO_DATA": "1"}
        for name in ("EMAIL_HOST", "EMAIL_PORT", "IDENTITY_DATABASE_URL", "PRODUCT_DATABASE_URL",
                     "ORDER_DATABASE_URL", "EMAIL_DATABASE_URL", "SHOP_JWKS_URL", "SHOP_SERVICE_URLS"):
            self.env.pop(name, None)  # `make up`'s defaults: SQLite, the local SMTP sink
        self.launcher: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.data_dir / f"launcher-{self.starts}.log"

    def start(self, timeout: float = 300) -> float:
        """Launch and wait until the launcher reports the shop ready; returns the seconds it took. The CPU the
        start took (every process of the tree, those that ended counted by the parent that waited for them) is
        left in ``self.start_cpu``: on a shared machine wall time says more about the others than about us."""
        self.starts += 1
        ready = self.data_dir / "run" / "ready.json"
        started = time.monotonic()
        with self.log.open("w") as out:
            self.launcher = subprocess.Popen([sys.executable, str(REPO / "deploy" / "local" / "up.py"),
                                              "--no-install"], env=self.env, cwd=REPO, stdout=out,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        while not ready.exists():
            if self.launcher.poll() is not None:
                raise RuntimeError(f"the launcher exited:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the shop did not start in {timeout}s:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        self.start_cpu = sum(cpu_seconds(pid) for pid in descendants(self.launcher.pid, children_of()))
        return elapsed

    def stop(self) -> None:
        stop_launcher(self.launcher)

    def cleanup(self) -> None:
        self.stop()
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        users = self.data_dir / "secrets" / "rabbitmq-users.json"  # users are global on the broker: ours go
        for account in json.loads(users.read_text()).values() if users.exists() else ():
            subprocess.run([ctl, "-q", "delete_user", account["user"]], capture_output=True, timeout=60)
        if self.keep:
            print(f"kept: {self.data_dir}", flush=True)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def programs(self) -> dict[str, int]:
        """name → pid of every recorded process of the shop (programs, the launcher, supervisord)."""
        found = {}
        for path in sorted((self.data_dir / "run" / "pids").glob("*.pid")):
            try:
                found[path.stem] = json.loads(path.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
        return found

    def footprint(self) -> dict[str, dict]:
        """program → {processes, rss_kib, pss_kib}, each program with every process below it."""
        tree = children_of()
        records = self.programs()
        owner: dict[int, str] = {}
        # programs first (their trees are below supervisord's), then supervisord (below the launcher's)
        for name, pid in sorted(records.items(), key=lambda item: (item[0] in OUTSIDE, item[0] == "launcher")):
            for member in descendants(pid, tree):
                owner.setdefault(member, name)
        if self.launcher is not None:  # whatever else runs below the launcher (nothing, normally)
            for member in descendants(self.launcher.pid, tree):
                owner.setdefault(member, "other")
        table: dict[str, dict] = {}
        for pid, name in owner.items():
            measured = memory_kib(pid)
            if measured is None:
                continue
            row = table.setdefault(name, {"processes": 0, "rss_kib": 0, "pss_kib": 0})
            row["processes"] += 1
            row["rss_kib"] += measured[0]
            row["pss_kib"] += measured[1]
        return table

    def launcher_steps(self) -> list[tuple[str, float]]:
        """(step, seconds) from the launcher's "done in" lines of the latest start."""
        return [(m.group(2), float(m.group(1)))
                for m in re.finditer(r"done in ([\d.]+)s \((.*)\)", self.log.read_text())]


# --- references ----------------------------------------------------------------------------------------------
def bare_django(env: dict) -> dict:
    """RSS and PSS of one idle process that has set the product service's Django up, and the wall time of one
    `manage.py check` there."""
    folder = REPO / "services" / "product"
    code = ("import os, sys, time, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
            "django.setup(); print('ready', flush=True); time.sleep(120)")
    process = subprocess.Popen([str(PYTHON), "-c", code], cwd=folder, env=env, stdout=subprocess.PIPE, text=True)
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare Django process did not start")
        time.sleep(1)
        rss, pss = memory_kib(process.pid)
    finally:
        process.kill()
        process.wait()
    timings, cpu = [], []
    for _ in range(3):
        started, before = time.monotonic(), os.times()
        subprocess.run([str(PYTHON), "manage.py", "check"], cwd=folder, env=env, capture_output=True, check=True)
        after = os.times()
        timings.append(time.monotonic() - started)
        cpu.append(after.children_user + after.children_system - before.children_user - before.children_system)
    return {"rss_kib": rss, "pss_kib": pss, "check_seconds": statistics.median(timings),
            "check_cpu_seconds": statistics.median(cpu)}


# --- report --------------------------------------------------------------------------------------------------
def mib(kib: int) -> str:
    return f"{kib / 1024:,.1f}"


def print_table(table: dict[str, dict], reference: dict) -> dict:
    total = {"processes": sum(r["processes"] for r in table.values()),
             "rss_kib": sum(r["rss_kib"] for r in table.values()),
             "pss_kib": sum(r["pss_kib"] for r in table.values())}
    print(f"\n{'program':<22}{'procs':>6}{'RSS MiB':>10}{'PSS MiB':>10}")
    for name, row in sorted(table.items(), key=lambda item: -item[1]["pss_kib"]):
        print(f"{name:<22}{row['processes']:>6}{mib(row['rss_kib']):>10}{mib(row['pss_kib']):>10}")
    print(f"{'total':<22}{total['processes']:>6}{mib(total['rss_kib']):>10}{mib(total['pss_kib']):>10}")
    print(f"{'bare Django process':<22}{1:>6}{mib(reference['rss_kib']):>10}{mib(reference['pss_kib']):>10}"
          f"   (total = {total['pss_kib'] / reference['pss_kib']:.1f}× its PSS)")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settle", type=float, default=15.0, help="idle seconds before measuring memory")
    parser.add_argument("--warm", type=int, default=2, help="warm starts to time (the median is reported)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    shop = Shop(args.keep)
    report: dict = {"machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()}}
    try:
        print(f"shop in {shop.data_dir}, port base {shop.base}", flush=True)
        report["cold_seconds"] = shop.start()
        report["cold_cpu_seconds"] = shop.start_cpu
        print(f"cold start (migrations, seeds): {report['cold_seconds']:.1f}s, {shop.start_cpu:.1f} CPU-s",
              flush=True)
        shop.stop()
        warm, warm_cpu, steps = [], [], []
        for run in range(args.warm):
            warm.append(shop.start())
            warm_cpu.append(shop.start_cpu)
            print(f"warm start {run + 1}: {warm[-1]:.1f}s, {warm_cpu[-1]:.1f} CPU-s", flush=True)
            if run == 0:
                steps = shop.launcher_steps()
                time.sleep(args.settle)
                report["programs"] = shop.footprint()
            shop.stop()
        report["warm_seconds"] = warm
        report["warm_cpu_seconds"] = warm_cpu
        report["warm_steps"] = steps
        report["reference"] = bare_django(shop.env)
    finally:
        shop.cleanup()
    report["machine"]["load_average_after"] = os.getloadavg()
    reference = report["reference"]
    print("\nwarm start, the launcher's steps:")
    for step, seconds in steps:
        print(f"  {seconds:5.1f}s  {step}")
    report["total"] = print_table(report["programs"], reference)
    print(f"\ncold start {report['cold_seconds']:.1f}s ({report['cold_cpu_seconds']:.1f} CPU-s), warm start "
          f"{statistics.median(warm):.1f}s ({statistics.median(warm_cpu):.1f} CPU-s; median of {len(warm)}); one bare "
          f"`manage.py check`: {reference['check_seconds']:.2f}s ({reference['check_cpu_seconds']:.2f} CPU-s): "
          f"warm start = {statistics.median(warm) / reference['check_seconds']:.1f}× it in time, "
          f"{statistics.median(warm_cpu) / reference['check_cpu_seconds']:.1f}× in CPU")
    print(f"load average before {report['machine']['load_average'][0]:.1f}, after "
          f"{report['machine']['load_average_after'][0]:.1f} (2 cores: others' work slows every figure)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps({"cold_seconds": report["cold_seconds"], "warm_seconds": warm, "warm_cpu_seconds": warm_cpu,
                      "total": report["total"], "reference": reference}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
