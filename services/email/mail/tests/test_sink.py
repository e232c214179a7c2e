"""The development SMTP sink: what the sender delivers lands in a Maildir, readable over HTTP."""
import json
import mailbox
import urllib.error
import urllib.request

import pytest

from mail import constants, services
from mail.sender import Sender
from mail.sink import Sink, read_messages
from mail.tests.fixtures import free_port


@pytest.fixture
def sink(tmp_path, settings):
    running_sink = Sink(maildir=tmp_path / "mail", port=free_port(), http_port=free_port())
    running_sink.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", running_sink.smtp.port
    yield running_sink
    running_sink.stop()


def get(sink, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{sink.http.server_address[1]}{path}", timeout=5) as response:
        return response.status, dict(response.headers), response.read().decode()


def queue(to, name="Ada & <Bob>"):
    return services.email_queue(kind=constants.KIND_WELCOME, to=to, cause_event_id=f"evt-{to}",
                                context={"name": name, "email": to, "shop_url": "http://shop"})


@pytest.mark.django_db
def test_sent_mail_lands_in_the_maildir(sink):
    message = queue("ada@example.com")

    Sender().send_due()

    box = mailbox.Maildir(str(sink.maildir), create=False)
    assert len(box) == 1
    [stored] = read_messages(sink.maildir)
    assert stored["to"] == ["ada@example.com"]
    assert stored["subject"] == message.subject
    assert stored["message_id"] == f"<{message.id}@localhost>"
    assert "Welcome to the Shop!" in stored["text"] and "<strong>ada@example.com</strong>" in stored["html"]


@pytest.mark.django_db
def test_the_http_mailbox_lists_and_shows_messages(sink):
    queue("ada@example.com")
    queue("grace@example.com")
    Sender().send_due()

    status, headers, body = get(sink, "/messages")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert sorted(m["to"][0] for m in json.loads(body)["messages"]) == ["ada@example.com", "grace@example.com"]

    status, _, body = get(sink, "/messages?to=grace@example.com")
    [only] = json.loads(body)["messages"]
    assert only["to"] == ["grace@example.com"]

    status, _, body = get(sink, f"/messages/{only['id']}")
    assert json.loads(body)["subject"] == only["subject"]

    status, headers, body = get(sink, f"/messages/{only['id']}.html")
    assert headers["Content-Security-Policy"] == "sandbox"
    assert "<strong>grace@example.com</strong>" in body

    status, headers, page = get(sink, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Shop mailbox (2)" in page
    assert "Ada &amp; &lt;Bob&gt;" in page and "<Bob>" not in page  # the page escapes what mail contains


def test_an_unknown_message_is_404(sink):
    for path in ("/messages/nope", "/messages/../../etc/passwd", "/elsewhere"):
        with pytest.raises(urllib.error.HTTPError) as failure:
            get(sink, path)
        assert failure.value.code == 404


@pytest.mark.django_db
def test_an_existing_empty_folder_becomes_a_working_maildir(tmp_path, settings):
    folder = tmp_path / "premade"
    folder.mkdir()  # e.g. made by a launcher or a volume mount, without tmp/new/cur
    empty_sink = Sink(maildir=folder, port=free_port())
    empty_sink.start()
    try:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", empty_sink.smtp.port
        queue("eve@example.com")
        Sender().send_due()
        assert [m["to"] for m in read_messages(folder)] == [["eve@example.com"]]
    finally:
        empty_sink.stop()
