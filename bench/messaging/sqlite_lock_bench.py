"""Benchmark: how long a SQLite write transaction waits for the lock, Django's backend against shopkit.sqlite's.

Usage: .venv/bin/python bench/messaging/sqlite_lock_bench.py [--processes 4] [--seconds 8] [--rounds 2]

Several processes (like a service's web workers and its worker under `make up`) each run short write transactions
on one SQLite file, back to back: BEGIN IMMEDIATE, an INSERT, about a millisecond of work, COMMIT. For each
transaction it records the wait for the lock (the BEGIN) and the whole transaction. The same load runs with
Django's own SQLite backend (whose wait is SQLite's busy timeout: sleeps of up to 100 ms) and with shopkit.sqlite
(a writer lock file: the kernel wakes a waiter), alternately, round after round. Prints one JSON line per run:
transactions/s, and the p50/p99/max of the lock wait in ms.
"""
import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "libs" / "shopkit"))

ENGINES = {"django": "django.db.backends.sqlite3", "shopkit": "shopkit.sqlite"}


def worker(engine: str, path: str, seconds: float, start_at: float, out) -> None:
    import django
    from django.conf import settings

    from shopkit.db import sqlite_database

    database = {**sqlite_database(Path(path)), "ENGINE": ENGINES[engine]}
    settings.configure(DATABASES={"default": database}, USE_TZ=True)
    django.setup()
    from django.db import connection, transaction

    connection.ensure_connection()
    waits = []
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    while time.time() < end:
        asked = time.perf_counter()
        with transaction.atomic():
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO t (pid, at) VALUES (%s, %s)", [os.getpid(), began])
            spin_until = time.perf_counter() + 0.001  # the Python work a real transaction does between statements
            while time.perf_counter() < spin_until:
                pass
        waits.append(began - asked)
        time.sleep(0.002)  # and some work outside a transaction before the next one
    out.put(waits)


def run(engine: str, processes: int, seconds: float) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="sqlite-lock-bench-"))
    path = folder / "bench.sqlite3"
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pid INTEGER, at REAL)")
    out = multiprocessing.Queue()
    start_at = time.time() + 1.5
    procs = [multiprocessing.Process(target=worker, args=(engine, str(path), seconds, start_at, out))
             for _ in range(processes)]
    for proc in procs:
        proc.start()
    waits = [w for _ in procs for w in out.get(timeout=seconds + 60)]
    for proc in procs:
        proc.join()
    waits.sort()
    return {"engine": engine, "transactions_per_s": round(len(waits) / seconds, 1),
            "wait_ms_p50": round(1000 * statistics.median(waits), 2),
            "wait_ms_p99": round(1000 * waits[int(0.99 * (len(waits) - 1))], 2),
            "wait_ms_max": round(1000 * waits[-1], 2), "load_average_1m": round(os.getloadavg()[0], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    multiprocessing.set_start_method("spawn")
    for _ in range(args.rounds):
        for engine in ENGINES:
            print(json.dumps(run(engine, args.processes, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
