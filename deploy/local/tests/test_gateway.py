"""The gateway's upstream blocks follow from deploy/topology.toml; the rendered config loads in the real nginx."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import topology
from helpers import REAL, config, with_services
from launcher.config import SetupError
from launcher.gateway import local_servers, local_values, render_config, upstreams

UP = Path(__file__).resolve().parents[1] / "up.py"


def test_one_upstream_per_service_with_its_local_instances_and_keepalive(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000")
    text = upstreams(cfg.shop, local_servers(cfg.shop, cfg.port_base))
    for service in topology.load().services:
        ports = service.local_web_ports(30000)
        block = "\n".join([f"    upstream {service.name} {{",
                           *(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports),
                           f"        keepalive {service.upstream_keepalive};", "    }"])
        assert block in text
    assert text.count("upstream ") == len(cfg.shop.services)


def test_upstreams_take_any_backend_addresses(monkeypatch, tmp_path):
    shop = config(monkeypatch, tmp_path, with_services("""
[services.identity]
port = 8001
database = "postgres"
processes = ["web"]
upstream_keepalive = 4
""")).shop
    assert upstreams(shop, {"identity": ["identity-web:8001"]}, options="") == (
        "    upstream identity {\n        server identity-web:8001;\n        keepalive 4;\n    }")


def test_rendered_config_has_the_upstreams_and_no_placeholder_left(monkeypatch, tmp_path):
    # product with two local instances (the committed topology runs one): both are the upstream's servers
    product = 'local_web_instances = 1\nreplicas = { web = 2, consumer = 1, relay = 1 }\nseed = ["seed_demo_catalog"]'
    assert product in REAL
    two = REAL.replace(product, product.replace("local_web_instances = 1", "local_web_instances = 2"))
    cfg = config(monkeypatch, tmp_path, two)
    files = render_config(local_values(cfg, tmp_path / "c.crt", tmp_path / "c.key"), cfg.shop,
                          local_servers(cfg.shop, cfg.port_base))
    assert {"nginx.conf", "api.conf", "headers.conf", "mime.types"} <= set(files)
    nginx = files["nginx.conf"]
    assert "upstream product {\n        server 127.0.0.1:8002 max_fails=1 fail_timeout=2s;\n" \
           "        server 127.0.0.1:8012 max_fails=1 fail_timeout=2s;\n        keepalive 32;" in nginx
    assert "location ~ ^/api/v1/schema/(identity|product|order|email)/$" in nginx
    assert not any("{{" in text for text in files.values())


def test_render_only_writes_configs_that_nginx_and_supervisord_accept(tmp_path):
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path / "data"), "SHOP_PORT_BASE": "30000"}
    result = subprocess.run([sys.executable, str(UP), "--render-only", "--no-install"], env=env, text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    nginx = (tmp_path / "data" / "gateway" / "nginx.conf").read_text()
    assert "server 127.0.0.1:30003 max_fails=1 fail_timeout=2s;" in nginx  # order's web instance
    supervisor = (tmp_path / "data" / "run" / "supervisord.conf").read_text()
    assert "--bind 127.0.0.1:30002" in supervisor  # product's web instance
    assert "run_worker consumer relay sender" in supervisor  # email's worker


def test_the_public_url_reaches_the_template_and_a_malformed_one_stops_the_launcher(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PUBLIC_URL="https://shop.example.com:8443/")
    nginx = render_config(local_values(cfg, tmp_path / "c.crt", tmp_path / "c.key"), cfg.shop,
                          local_servers(cfg.shop, cfg.port_base))["nginx.conf"]
    assert 'map "https://shop.example.com:8443" $public_host {' in nginx  # the allowed host is read from it
    for bad in ("shop.example.com", "https://shop.example.com/shop", 'https://a"b', "https://$host"):
        cfg = config(monkeypatch, tmp_path, SHOP_PUBLIC_URL=bad)
        with pytest.raises(SetupError, match="SHOP_PUBLIC_URL"):
            local_values(cfg, tmp_path / "c.crt", tmp_path / "c.key")


def test_the_ops_routes_go_to_each_service_and_the_shop_wide_status_to_identity(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000")
    nginx = render_config(local_values(cfg, tmp_path / "c.crt", tmp_path / "c.key"), cfg.shop,
                          local_servers(cfg.shop, cfg.port_base))["nginx.conf"]
    names = "|".join(s.name for s in cfg.shop.services)
    assert "location = /api/v1/ops/status/ {" in nginx
    status_block = nginx.split("location = /api/v1/ops/status/ {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://identity;" in status_block
    assert f"location ~ ^/api/v1/ops/({names})/ {{" in nginx


def test_every_service_learns_the_others_web_addresses_from_the_topology(monkeypatch, tmp_path):
    cfg = config(monkeypatch, tmp_path, SHOP_PORT_BASE="30000")
    urls = dict(item.split("=", 1) for item in cfg.service_env()["SHOP_SERVICE_URLS"].split(","))
    assert urls == {s.name: f"http://127.0.0.1:{s.local_web_ports(30000)[0]}" for s in cfg.services}
    assert set(urls) == {"identity", "product", "order", "email"}
