"""The service's long-running commands as processes: they do their work and stop cleanly on SIGTERM."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from mail import constants, services
from mail.models import EmailMessage
from mail.tests.fixtures import free_port
from shopkit.testing import wait_until

SERVICE_DIR = Path(__file__).resolve().parents[2]


def manage(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=SERVICE_DIR, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def terminate(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def database_url_of_the_test_database() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    scheme = {"mysql": "mysql", "postgresql": "postgres"}[connection.vendor]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"{scheme}://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_send_emails_delivers_then_stops_on_sigterm(smtp_server, tmp_path):
    message = services.email_queue(kind=constants.KIND_WELCOME, to="ada@example.com", cause_event_id="evt-cmd",
                                   context={"name": "Ada", "email": "ada@example.com", "shop_url": "http://shop"})
    process = manage("send_emails", "--poll-seconds", "0.1", env={
        "EMAIL_DATABASE_URL": database_url_of_the_test_database(), "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port), "SHOP_DATA_DIR": str(tmp_path)})
    try:
        wait_until(lambda: EmailMessage.objects.get(id=message.id).status == constants.STATUS_SENT, timeout=30)
    finally:
        code = terminate(process)
    assert code == 0, process.stderr.read()
    assert len(smtp_server.received_by("ada@example.com")) == 1


def test_smtp_sink_stores_mail_and_serves_the_mailbox_until_sigterm(tmp_path):
    import smtplib

    smtp_port, http_port = free_port(), free_port()
    process = manage("smtp_sink", "--port", str(smtp_port), "--http-port", str(http_port), "--maildir",
                     str(tmp_path / "mail"), env={"SHOP_DATA_DIR": str(tmp_path)})
    try:
        def accepts_mail():
            try:
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=2) as smtp:
                    smtp.sendmail("shop@localhost", ["ada@example.com"],
                                  b"Subject: hello\r\nTo: ada@example.com\r\n\r\nhi there\r\n")
                return True
            except OSError:
                time.sleep(0.2)
                return False

        wait_until(accepts_mail, timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/messages", timeout=5) as response:
            [message] = json.load(response)["messages"]
    finally:
        code = terminate(process)
    assert code == 0, process.stderr.read()
    assert message["subject"] == "hello" and message["to"] == ["ada@example.com"]
    assert "hi there" in message["text"]
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1
