"""`manage.py smtp_sink`: a development SMTP server that keeps every message in a Maildir (until SIGTERM)."""
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand

from mail.sink import Sink
from shopkit.conf import data_dir


class Command(BaseCommand):
    help = ("Accept mail on --host:--port and store it in a Maildir (default $SHOP_DATA_DIR/mail); "
            "with --http-port, also serve a read-only mailbox page and JSON API.")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1025)
        parser.add_argument("--maildir", type=Path, default=None, help="default: $SHOP_DATA_DIR/mail")
        parser.add_argument("--http-port", type=int, default=None,
                            help="serve the mailbox at http://HOST:PORT/ (HTML) and /messages (JSON)")

    def handle(self, *args, **options):
        maildir = options["maildir"] or data_dir() / "mail"
        sink = Sink(maildir=maildir, host=options["host"], port=options["port"], http_port=options["http_port"])
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        sink.start()
        self.stdout.write(f"SMTP sink on {options['host']}:{options['port']}, storing mail in {maildir}")
        if options["http_port"] is not None:
            self.stdout.write(f"mailbox at http://{options['host']}:{options['http_port']}/")
        self.stdout.flush()
        try:
            while not stop.wait(0.5):  # a timed wait keeps the main thread responsive to signals
                pass
        finally:
            sink.stop()
