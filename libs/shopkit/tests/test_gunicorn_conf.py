"""shopkit.gunicorn_conf: every name in it is a gunicorn setting, and gunicorn reads it as the launcher runs it."""
import importlib
import os
import signal
import socket
import subprocess
import sys
import urllib.request

from gunicorn.config import Config

import shopkit.gunicorn_conf
from shopkit.testing import wait_until


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


def test_the_master_imports_the_app_once_and_its_workers_fork_from_it(tmp_path):
    # each worker would import the service again (a Django start-up, and a private copy of everything) otherwise
    (tmp_path / "app.py").write_text(
        "import os\n"
        "with open('imported-by', 'a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [str(os.getpid()).encode()]\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SHOP_WEB_WORKERS": "2", "SHOP_DATA_DIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    master = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:application", "--config",
                               "python:shopkit.gunicorn_conf", "--bind", f"127.0.0.1:{port}"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def answering_pids() -> set[int]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    return {int(response.read())}
            except OSError:
                return set()
        wait_until(answering_pids, timeout=60, what="gunicorn to answer")
        workers = set().union(*(answering_pids() for _ in range(20)))
        assert master.pid not in workers
        assert (tmp_path / "imported-by").read_text().split() == [str(master.pid)]
    finally:
        os.killpg(master.pid, signal.SIGTERM)
        master.wait(timeout=30)
