"""CPU per email of the email worker: queueing one for an order.confirmed event, and one send+record round.

Usage: .venv/bin/python bench/email/email_cpu.py [--emails 2000] [--repeat 3] [--baseline REF] [--database-url URL]

(a) queue: the order.confirmed handler (context, render, duplicate check, insert, log) for --emails events, 20 per
    transaction as the consumer's batch applies them, commits included; the inbox record is shopkit's and not timed.
(b) send: Sender.send_due() rounds (batch 20) until --emails queued messages are sent to the project's SMTP sink
    (mail/sink.py, run by `manage.py smtp_sink` in a process of its own so that its CPU is not counted): claim,
    MIME build, SMTP dialogue, mark sent with its `email.sent`, logging, metrics.
CPU is time.process_time() of this process divided by the emails; logging runs at INFO into /dev/null, as the
worker's does into its log. Also prints the SQL statements per email of each. With --baseline REF the same
measurement runs on REF's services/email too (exported by `git archive`), alternating with the worktree's code
--repeat times each, and the medians and after/before ratios are printed. --database-url: a MySQL/MariaDB or
PostgreSQL server (a database of its own is created and dropped); default a fresh SQLite file.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BATCH = 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", help="a git ref whose services/email is measured too, alternating")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child: the service folder to measure
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.emails, args.database_url)))
        return
    trees = {"after": ROOT / "services" / "email"}
    if args.baseline:
        trees = {"before": export_service(args.baseline), **trees}
    runs = {name: [] for name in trees}
    for _ in range(args.repeat):
        for name, tree in trees.items():
            out = subprocess.run([sys.executable, __file__, "--measure", str(tree), "--emails", str(args.emails),
                                  "--database-url", args.database_url], check=True, capture_output=True, text=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(name, runs[name][-1], file=sys.stderr)
    if args.baseline:
        shutil.rmtree(trees["before"].parents[1])
    summary = {name: {key: statistics.median(r[key] for r in results) for key in results[0]}
               for name, results in runs.items()}
    if "before" in summary:
        summary["ratio"] = {key: round(summary["after"][key] / summary["before"][key], 3)
                            for key in summary["after"] if summary["before"][key]}
    print(json.dumps(summary, indent=2))


def export_service(ref: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="email-baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "services/email"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "services" / "email"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(service_dir: Path, emails: int, database_url: str) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="email-bench-"))
    os.environ.update(SHOP_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="config.settings")
    if database_url:
        os.environ["EMAIL_DATABASE_URL"] = database_url.rstrip("/") + f"/shop_email_bench_{os.getpid()}"
    sys.path.insert(0, str(service_dir))
    os.chdir(service_dir)
    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.db import connection

    if database_url:
        _create_database()
    call_command("migrate", verbosity=0)
    for handler in logging.getLogger().handlers:  # the worker logs every email: keep the cost, drop the text
        handler.setStream(open(os.devnull, "w"))
    port = free_port()
    sink = subprocess.Popen([sys.executable, "manage.py", "smtp_sink", "--port", str(port),
                             "--maildir", str(data_dir / "mail")], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        sink.stdout.readline()  # it says so once it listens
        result = _measure(emails, port)
    finally:
        sink.terminate()
        sink.wait()
        if database_url:
            connection.close()
            _drop_database()
    delivered = len(os.listdir(data_dir / "mail" / "new"))
    shutil.rmtree(data_dir)
    assert delivered == result["emails_sent"], (delivered, result)
    return result


def _measure(emails: int, port: int) -> dict:
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from mail.handlers import HANDLERS
    from mail.models import EmailMessage
    from mail.sender import Sender
    from mail.tests.builders import order_event
    from shopkit import events

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    handler = HANDLERS[events.ORDER_CONFIRMED]

    def queue(count: int, queries=None) -> float:
        batch = [order_event(events.ORDER_CONFIRMED) for _ in range(count)]
        began = time.process_time()
        for start in range(0, count, BATCH):
            with transaction.atomic():
                for event in batch[start:start + BATCH]:
                    handler(event)
        return time.process_time() - began

    def send(sender: Sender) -> float:
        began = time.process_time()
        while sender.send_due():
            pass
        return time.process_time() - began

    sender = Sender(batch_size=BATCH)
    queue(100)
    send(sender)  # warm: templates compiled, connections open, code paths taken once

    with CaptureQueriesContext(connection) as queue_queries:
        queue(BATCH)
    with CaptureQueriesContext(connection) as send_queries:
        send(sender)

    queue_seconds = queue(emails)
    send_seconds = send(sender)
    assert not EmailMessage.objects.filter(status="queued").exists()
    return {
        "queue_cpu_us": round(queue_seconds / emails * 1e6, 1),
        "send_cpu_us": round(send_seconds / emails * 1e6, 1),
        "queue_statements": len(queue_queries) / BATCH,
        "send_statements": len(send_queries) / BATCH,
        "emails_sent": sender.sent,
    }


def _create_database():
    from django.db import connection

    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")


def _drop_database():
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.settings_dict['NAME']}")


if __name__ == "__main__":
    main()
