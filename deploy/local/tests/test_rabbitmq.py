"""The services' broker users: how the definitions reach `rabbitmqctl`, and what the launcher says when neither the
CLI nor the management API takes them. The broker itself is not touched here (the shared one is never reconfigured
by tests); subprocess and HTTP are replaced at the edges."""
from __future__ import annotations

import json
import os
import pwd
import subprocess
import urllib.request
from pathlib import Path

import pytest

from launcher import rabbitmq
from launcher.config import SetupError
from launcher.progress import Progress

from helpers import config


def test_the_definitions_file_is_readable_by_the_user_the_cli_runs_as_and_gone_afterwards(monkeypatch, tmp_path):
    # Debian's wrapper runs rabbitmqctl as the rabbitmq user when root calls it: the file must be that user's
    document = {"users": [{"name": "u"}]}
    with rabbitmq._definitions_file_for_cli(document) as path:
        assert json.loads(path.read_text()) == document
        assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
        expected = os.geteuid()
        if os.geteuid() == 0:
            try:
                expected = pwd.getpwnam("rabbitmq").pw_uid
            except KeyError:
                pass
        assert path.stat().st_uid == expected and path.parent.stat().st_uid == expected
    assert not path.exists() and not path.parent.exists()


def test_without_the_management_api_the_users_go_in_through_rabbitmqctl_from_outside_the_data_folder(
        monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path)
    monkeypatch.setattr(rabbitmq, "port_open", lambda *a, **k: False)  # a fresh node: no management plugin
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, json.loads(Path(argv[-1]).read_text())))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(rabbitmq, "_rabbitmqctl", lambda: "/usr/sbin/rabbitmqctl")
    monkeypatch.setattr(rabbitmq.subprocess, "run", fake_run)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("the management API was used"))
    rabbitmq.ensure_service_users(cfg, Progress())
    (argv, document), = calls
    assert argv[:3] == ["/usr/sbin/rabbitmqctl", "-q", "import_definitions"]
    assert not Path(argv[-1]).is_relative_to(cfg.data_dir)
    assert {u["name"] for u in document["users"]} == {a["user"] for a in rabbitmq.credentials(cfg).values()}


def test_when_both_ways_fail_the_error_quotes_what_rabbitmqctl_said(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path)
    monkeypatch.setattr(rabbitmq, "port_open", lambda *a, **k: True)
    monkeypatch.setattr(rabbitmq, "_rabbitmqctl", lambda: "/usr/sbin/rabbitmqctl")
    monkeypatch.setattr(rabbitmq.subprocess, "run", lambda argv, **k: subprocess.CompletedProcess(
        argv, 65, "", "Error (argument validation): Bad argument: File /x/definitions.json does not exist"))
    monkeypatch.setattr(rabbitmq.time, "sleep", lambda seconds: None)

    def refused(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    with pytest.raises(SetupError) as raised:
        rabbitmq.ensure_service_users(cfg, Progress())
    assert "exited with 65" in str(raised.value) and "does not exist" in str(raised.value)
    assert "Connection refused" in str(raised.value)


def test_a_management_api_that_answers_takes_the_users_without_starting_the_cli(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path)
    posted = []

    class Answer:
        def close(self):
            pass

    def urlopen(request, timeout):
        posted.append((request.full_url, request.get_method(), json.loads(request.data)))
        return Answer()

    monkeypatch.setattr(rabbitmq, "port_open", lambda *a, **k: True)
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(rabbitmq.subprocess, "run", lambda *a, **k: pytest.fail("rabbitmqctl was started"))
    rabbitmq.ensure_service_users(cfg, Progress())
    (url, method, document), = posted
    assert url.endswith(":15672/api/definitions") and method == "POST"
    assert document["permissions"] and all("password" not in user for user in document["users"])
