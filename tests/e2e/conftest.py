"""Starts a whole, private shop for the session with the real launcher: its own SHOP_DATA_DIR, ports and vhost.

The shop a developer may be running (`make up`) is left alone: nothing here uses the default ports, data
folder or RabbitMQ vhost. The tests talk to the gateway only; the fixtures also hand them the supervisor
(to stop and start processes) and the SMTP sink's Maildir (to find delivered mail).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from client import Gateway, wait_for

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy"))
import topology  # noqa: E402  (deploy/topology.py: the services' local ports)

VENV_PYTHON = REPO / ".venv" / "bin" / "python"
START_TIMEOUT = float(os.environ.get("SHOP_E2E_START_TIMEOUT", "300"))
ADMIN_EMAIL, ADMIN_PASSWORD = "e2e-admin@example.com", "e2e-admin-password"


def _rabbitmqctl(*args: str) -> None:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "-q", *args], capture_output=True, timeout=60)


@dataclass
class Shop:
    base_url: str
    https_url: str
    data_dir: Path
    cert: Path
    env: dict
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ADMIN_PASSWORD

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    def gateway(self, **kwargs) -> Gateway:
        return Gateway(self.base_url, **kwargs)

    def supervisorctl(self, *args: str) -> str:
        result = subprocess.run([str(REPO / ".venv" / "bin" / "supervisorctl"), "-c",
                                 str(self.data_dir / "run" / "supervisord.conf"), *args],
                                text=True, capture_output=True, timeout=120)
        return result.stdout

    def mail_for(self, address: str) -> list[str]:
        """Every message the SMTP sink stored for ``address``, as text."""
        found = []
        for folder in ("new", "cur"):
            for path in sorted((self.maildir / folder).glob("*")):
                text = path.read_text(errors="replace")
                if address in text:
                    found.append(text)
        return found


@pytest.fixture(scope="session")
def shop(tmp_path_factory) -> Shop:
    data_dir = tmp_path_factory.mktemp("shop")
    base = topology.load().free_port_base()
    ports = topology.private_shop_ports(base)
    vhost = f"shop-e2e-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "SHOP_DATA_DIR": str(data_dir),
        **ports,
        "SHOP_PUBLIC_URL": f"http://127.0.0.1:{ports['SHOP_HTTP_PORT']}",
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "SHOP_ADMIN_EMAIL": ADMIN_EMAIL,
        "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SHOP_DEMO_DATA": "1",
        "SHOP_CORS_ORIGINS": "https://allowed.example",
        "SHOP_WEB_WORKERS": "1",  # two cores: keep the e2e shop light; product and order still run two masters
        "SHOP_START_TIMEOUT": str(int(START_TIMEOUT)),
        # shorter than identity's default, so the test of a late refresh-token reuse waits less
        "SHOP_JWT_REFRESH_REUSE_GRACE_SECONDS": "5",
    }
    for name in ("EMAIL_HOST", "EMAIL_PORT", "IDENTITY_DATABASE_URL", "PRODUCT_DATABASE_URL",
                 "ORDER_DATABASE_URL", "EMAIL_DATABASE_URL", "SHOP_JWKS_URL", "SHOP_SERVICE_URLS"):
        env.pop(name, None)  # the e2e shop is self-contained: SQLite, the local SMTP sink
    log_path = data_dir / "launcher.log"
    python = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
    with log_path.open("w") as log:
        launcher = subprocess.Popen([python, str(REPO / "deploy" / "local" / "up.py"), "--no-install"], env=env,
                                    cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ready = data_dir / "run" / "ready.json"

    def started():
        if launcher.poll() is not None:
            raise RuntimeError(f"the launcher exited ({launcher.returncode}):\n{log_path.read_text()[-4000:]}")
        return ready.exists()

    try:
        try:
            wait_for(started, timeout=START_TIMEOUT, interval=0.5, what="the e2e shop to start")
        except AssertionError:
            raise RuntimeError(f"the shop did not start:\n{log_path.read_text()[-4000:]}") from None
        json.loads(ready.read_text())
        yield Shop(base_url=f"http://127.0.0.1:{ports['SHOP_HTTP_PORT']}",
                   https_url=f"https://localhost:{ports['SHOP_HTTPS_PORT']}",
                   data_dir=data_dir, cert=data_dir / "tls" / "gateway.crt", env=env)
    finally:
        _stop(launcher)
        _rabbitmqctl("delete_vhost", vhost)
        for account in broker_users(data_dir).values():  # users are global on the broker: the launcher made these
            _rabbitmqctl("delete_user", account["user"])


def broker_users(data_dir: Path) -> dict[str, dict]:
    """service → {"user", "password"}: the broker users the launcher generated for this shop (make up)."""
    path = data_dir / "secrets" / "rabbitmq-users.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _stop(launcher: subprocess.Popen) -> None:
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait(timeout=10)


@pytest.fixture(scope="session")
def gateway(shop) -> Gateway:
    return shop.gateway()


@pytest.fixture(scope="session")
def staff_token(shop, gateway) -> str:
    return gateway.log_in(shop.admin_email, shop.admin_password)


@pytest.fixture
def customer(gateway) -> tuple[str, str]:
    """A fresh customer: (email, access token)."""
    return gateway.register_and_log_in()


@pytest.fixture
def make_product(gateway, staff_token):
    """Staff create a product with ``stock`` units; returns it once orders can be placed for it (the order
    service learns of products through product.created, a moment after the 201)."""
    def make(*, stock: int = 10, price: str = "12.50", name: str = "E2E widget") -> dict:
        categories = gateway.get("/api/v1/categories/").json["results"]
        body = {"sku": f"E2E-{uuid.uuid4().hex[:10]}", "name": name, "description": "made by the e2e suite",
                "price": price, "currency": "EUR"}
        if categories:
            body["category"] = categories[0]["slug"]
        created = gateway.post("/api/v1/products/", body, token=staff_token)
        assert created.status == 201, created
        product = created.json
        if stock:
            adjusted = gateway.post(f"/api/v1/products/{product['id']}/stock/adjustments/",
                                    {"delta": stock, "reason": "e2e"}, token=staff_token)
            assert adjusted.status == 201, adjusted
        return product
    return make


ADDRESS = {"name": "E2E Customer", "line1": "1 Test Street", "line2": "", "city": "Testville",
           "postal_code": "12345", "country": "DE"}


@pytest.fixture
def place_order(gateway):
    """POST an order, waiting (briefly) for the order service's replica to know the products."""
    def place(token: str, items: list[dict]) -> dict:
        body = {"items": items, "shipping_address": ADDRESS}

        def attempt():
            response = gateway.post("/api/v1/orders/", body, token=token)
            if response.status == 201:
                return response.json
            assert response.status in (400, 404, 409, 422), response  # unknown product: not replicated yet
            return None
        return wait_for(attempt, timeout=30, interval=0.5, what="the order service to accept the order")
    return place


@pytest.fixture
def order_status(gateway):
    def status(token: str, order_id: str) -> str:
        response = gateway.get(f"/api/v1/orders/{order_id}/", token=token)
        assert response.status == 200, response
        return response.json["status"]
    return status
