"""The launcher's edges with a real shop (nginx, RabbitMQ, supervisord, gunicorn): a start after the launcher was
killed, and `make down` from another terminal. Each test runs a private shop: its own data folder, free ports and
RabbitMQ vhost."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import topology

from launcher import processes

REPO = Path(__file__).resolve().parents[3]
UP = REPO / "deploy" / "local" / "up.py"
PYTHON = REPO / ".venv" / "bin" / "python"
START_TIMEOUT = float(os.environ.get("SHOP_E2E_START_TIMEOUT", "300"))
SHOP = topology.load()


class Shop:
    """One private shop and the launchers started for it."""

    def __init__(self, data_dir: Path):
        base = SHOP.free_port_base()
        self.base, self.data_dir, self.vhost = base, data_dir, f"shop-launcher-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "SHOP_DATA_DIR": str(data_dir), **topology.private_shop_ports(base),
                    "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}", "SHOP_DEMO_DATA": "0",
                    "SHOP_WEB_WORKERS": "1", "SHOP_START_TIMEOUT": str(int(START_TIMEOUT))}
        for name in ("EMAIL_HOST", "EMAIL_PORT", "IDENTITY_DATABASE_URL", "PRODUCT_DATABASE_URL",
                     "ORDER_DATABASE_URL", "EMAIL_DATABASE_URL", "SHOP_JWKS_URL", "SHOP_SERVICE_URLS"):
            self.env.pop(name, None)
        self.launchers: list[subprocess.Popen] = []
        self.ready = data_dir / "run" / "ready.json"

    def start(self) -> subprocess.Popen:
        """Start a launcher and wait until it reports the shop ready."""
        log = self.data_dir.parent / f"launcher-{len(self.launchers)}.log"
        with log.open("w") as out:
            launcher = subprocess.Popen([str(PYTHON), str(UP), "--no-install"], env=self.env, cwd=REPO, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.launchers.append(launcher)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready.exists():
            if launcher.poll() is not None:
                pytest.fail(f"the launcher exited ({launcher.returncode}):\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the shop did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        return launcher

    def record(self, name: str) -> dict:
        return processes.read_record(self.data_dir / "run" / "pids" / f"{name}.pid")

    def cleanup(self) -> None:
        for launcher in self.launchers:
            if launcher.poll() is None:
                launcher.send_signal(signal.SIGTERM)
                try:
                    launcher.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    pass
        left = processes.live_records(self.data_dir / "run" / "pids")  # whatever a failed test left running
        if left:
            processes.stop(left, grace_seconds=20)
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        users = self.data_dir / "secrets" / "rabbitmq-users.json"  # the services' users the launcher made
        for account in json.loads(users.read_text()).values() if users.exists() else ():
            subprocess.run([ctl, "-q", "delete_user", account["user"]], capture_output=True, timeout=60)


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path / "data")
    try:
        yield shop
    finally:
        shop.cleanup()


def test_a_start_after_the_launcher_was_killed_stops_what_it_left_and_runs(shop):
    first = shop.start()
    web = shop.record("identity-web-1")
    supervisord = int((shop.data_dir / "run" / "supervisord.pid").read_text())  # supervisord's own pid file
    os.kill(supervisord, signal.SIGKILL)  # what `kill -9` of make's process group, or a crash, leaves behind
    first.kill()
    first.wait(timeout=10)
    time.sleep(1)
    assert not topology.port_free(shop.base + 1)  # the orphaned gunicorn master of identity still holds its port

    shop.ready.unlink(missing_ok=True)
    shop.start()

    assert not processes.is_alive(web)  # the old master was stopped, a new one serves
    assert processes.is_alive(shop.record("identity-web-1"))
    assert json.loads(shop.ready.read_text())["shop"]


def test_down_stops_a_running_shop_from_another_terminal(shop):
    launcher = shop.start()
    records = processes.live_records(shop.data_dir / "run" / "pids")
    assert {"launcher", "supervisord", "gateway", "identity-web-1", "order-worker"} <= set(records)

    down = subprocess.run(["make", "--no-print-directory", "down"], env=shop.env, cwd=REPO, text=True,
                          capture_output=True, timeout=120)

    assert down.returncode == 0, down.stdout + down.stderr
    assert launcher.wait(timeout=30) == 0  # the launcher saw an orderly stop
    assert [name for name, record in records.items() if processes.is_alive(record)] == []
    assert SHOP.private_shop_ports_free(shop.base)


def test_a_closed_terminal_stops_the_whole_shop(shop):
    launcher = shop.start()
    records = processes.live_records(shop.data_dir / "run" / "pids")

    os.killpg(launcher.pid, signal.SIGHUP)  # the terminal hangs up its foreground process group

    assert launcher.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while any(processes.is_alive(r) for r in records.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [name for name, record in records.items() if processes.is_alive(record)] == []


def test_down_with_no_shop_running_says_so(tmp_path):
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path / "none")}
    down = subprocess.run([str(PYTHON), str(UP), "--down"], env=env, text=True, capture_output=True, timeout=60)
    assert down.returncode == 0
    assert "No shop is running" in down.stdout
