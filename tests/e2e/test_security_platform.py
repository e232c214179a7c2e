"""Issue 14's platform hardening as an attacker meets it at the gateway: forged Host names, cached links, and
hostile input (overflowing page numbers, deeply nested JSON)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from client import Gateway, wait_for

REPO = Path(__file__).resolve().parents[2]


def assert_problem(response, status: int) -> dict:
    assert response.status == status, response
    assert response.content_type == "application/problem+json", response
    assert response.json["status"] == status and response.json["title"] and response.json["detail"]
    return response.json


def test_a_forged_host_gets_a_421_problem_wherever_it_asks(gateway):
    for path in ("/api/v1/products/", "/api/v1/auth/jwks.json", "/", "/api/docs/"):
        assert_problem(gateway.get(path, headers={"Host": "evil.example"}), 421)
    assert_problem(gateway.get("/api/v1/products/", headers={"Host": "127.0.0.1.evil.example"}), 421)
    # the loopback names are served on any port
    assert gateway.get("/api/v1/categories/", headers={"Host": "localhost:1"}).status == 200
    assert gateway.get("/api/v1/categories/", headers={"Host": "[::1]"}).status == 200


def test_cached_catalog_links_never_carry_the_host_of_the_request(shop, gateway):
    # a URL nobody cached yet: an argument the list reads (one it ignores would share the cached page)
    page = f"/api/v1/products/?page_size=1&ordering=name&max_price={10**6 + uuid.uuid4().int % 10**6}"
    # an attacker tries to prime the micro-cache with a forged name, then with a loopback name that is served
    assert gateway.get(page, headers={"Host": "evil.example"}).status == 421
    primed = gateway.get(page, headers={"Host": "localhost"})
    assert primed.status == 200, primed
    # the next reader of the same page, straight after (within the cache's second), sees the public URL
    normal = gateway.get(page)
    assert normal.status == 200, normal
    for response in (primed, normal):
        assert response.json["next"].startswith(f"{shop.base_url}/api/v1/products/?"), response.json["next"]
        assert "evil" not in response.body.decode() and "localhost" not in response.json["next"]


def test_an_overflowing_page_number_is_a_400_problem(gateway):
    for path in ("/api/v1/products/?page=1000000000000000000", "/api/v1/categories/?page=1000000000000000000"):
        body = assert_problem(gateway.get(path), 400)
        assert "page" in body["errors"], body
    assert "min_price" in assert_problem(gateway.get("/api/v1/products/?min_price=1e999999"), 400)["errors"]


def test_a_deeply_nested_json_body_is_a_400_problem(shop, customer):
    # an address of its own: registration is rate-limited per address
    client = shop.gateway(source_address="127.0.0.61")
    nested = b"[" * 100_000 + b"]" * 100_000
    headers = {"Content-Type": "application/json"}
    assert_problem(client.request("POST", "/api/v1/auth/register", raw=nested, headers=headers), 400)
    _, token = customer
    deep_field = (b'{"items":' + b"[" * 200 + b"]" * 200 + b',"shipping_address":{}}')
    assert_problem(client.request("POST", "/api/v1/orders/", raw=deep_field, headers=headers, token=token), 400)


# --- a gateway whose SHOP_PUBLIC_URL is on https (rendered by the launcher, run as nginx alone) ---------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def https_public_gateway(tmp_path):
    """The launcher's gateway config for SHOP_PUBLIC_URL=https://shop.example.test:<port>, served by nginx
    without the services behind it (the redirect and the host check happen before any upstream)."""
    http_port, https_port = _free_port(), _free_port()
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path), "SHOP_HTTP_PORT": str(http_port),
           "SHOP_HTTPS_PORT": str(https_port), "SHOP_PORT_BASE": "40000",  # upstreams never contacted
           "SHOP_PUBLIC_URL": f"https://shop.example.test:{https_port}"}
    python = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv").exists() else sys.executable
    rendered = subprocess.run([python, str(REPO / "deploy" / "local" / "up.py"), "--no-install", "--render-only"], env=env,
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-p", f"{tmp_path / 'run' / 'nginx'}/", "-c",
                                str(tmp_path / "gateway" / "nginx.conf"), "-e",
                                str(tmp_path / "logs" / "gateway-error.log")], start_new_session=True)
    plain = Gateway(f"http://127.0.0.1:{http_port}")
    try:
        wait_for(lambda: _answers(plain), what="the https-public gateway to listen")
        yield plain, https_port
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=30)


def _answers(gateway: Gateway) -> bool:
    try:
        return gateway.get("/healthz").status == 200
    except OSError:
        return False


def test_with_an_https_public_url_plain_http_redirects_there(https_public_gateway):
    plain, https_port = https_public_gateway
    public = f"https://shop.example.test:{https_port}"
    for host in ("shop.example.test", "localhost", f"127.0.0.1:{https_port}"):
        response = plain.get("/api/v1/products/?page=2", headers={"Host": host})
        assert response.status == 308, response
        assert response.header("Location") == f"{public}/api/v1/products/?page=2"
    assert_problem(plain.get("/api/v1/products/", headers={"Host": "evil.example"}), 421)  # checked first
    assert plain.get("/healthz").status == 200  # load balancers probe over plain HTTP
