"""shopkit.gunicorn_conf: every name in it is a gunicorn setting, and gunicorn reads it as the launcher runs it."""
import importlib
import subprocess
import sys

from gunicorn.config import Config

import shopkit.gunicorn_conf


def _settings(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(shopkit.gunicorn_conf)


def test_every_name_is_a_gunicorn_setting():
    known = Config().settings
    names = [name for name in vars(shopkit.gunicorn_conf) if not name.startswith("_")
             and name not in ("os", "Path")]
    assert names and [name for name in names if name not in known] == []  # a typo would be ignored silently


def test_workers_and_name_come_from_the_environment(monkeypatch):
    conf = _settings(monkeypatch, SHOP_WEB_WORKERS="3", SHOP_PROCESS_NAME="order-web-2")
    assert (conf.workers, conf.proc_name) == (3, "order-web-2")
    monkeypatch.delenv("SHOP_WEB_WORKERS")
    monkeypatch.delenv("SHOP_PROCESS_NAME")
    conf = importlib.reload(shopkit.gunicorn_conf)
    assert conf.workers == 2


def test_gunicorn_loads_it_as_the_topologys_command_names_it(tmp_path):
    (tmp_path / "app.py").write_text("def application(environ, start_response):\n    return []\n")
    command = [sys.executable, "-m", "gunicorn", "app:application", "--config", "python:shopkit.gunicorn_conf",
               "--bind", "127.0.0.1:1", "--print-config"]
    result = subprocess.run(command, cwd=tmp_path, text=True, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    printed = {line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip()
               for line in result.stdout.splitlines() if "=" in line}
    assert printed["worker_class"] == "gthread"
    assert (printed["threads"], printed["keepalive"], printed["timeout"], printed["graceful_timeout"]) == (
        "4", "75", "30", "10")
    if "control_socket_disable" in printed:  # gunicorn 25+
        assert printed["control_socket_disable"] == "True"
