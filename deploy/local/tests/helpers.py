"""A launcher Config for a test: a data folder of its own, and the real topology or one written for the test."""
from __future__ import annotations

import re
from pathlib import Path

import topology
from launcher.config import Config

REAL = topology.TOPOLOGY_FILE.read_text()


def config(monkeypatch, tmp_path: Path, toml: str | None = None, **env: str) -> Config:
    """A Config as `make up` would build it from ``env`` (on top of a clean environment) and ``toml``."""
    for name in ("SHOP_HTTP_PORT", "SHOP_HTTPS_PORT", "SHOP_PORT_BASE", "SHOP_SMTP_PORT", "SHOP_MAILBOX_PORT",
                 "EMAIL_HOST", "EMAIL_PORT", "SHOP_DEMO_DATA", "SHOP_ADMIN_EMAIL", "SHOP_ADMIN_PASSWORD",
                 "SHOP_ADMIN_NAME", "SHOP_JWKS_URL", "SHOP_SERVICE_URLS", "SHOP_BIND_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOP_DATA_DIR", str(tmp_path / "data"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    shop = None
    if toml is not None:
        path = tmp_path / "topology.toml"
        path.write_text(toml)
        shop = topology.load(path)
    return Config.from_env(shop)


def with_services(services: str) -> str:
    """The real topology.toml's process kinds and infrastructure around the services declared in ``services``."""
    kinds = REAL[:REAL.index("[services.")]
    infrastructure = REAL[REAL.index("[gateway]"):]
    # the gateway names the service answering the shop-wide ops status: one of these
    first = re.search(r"^\[services\.([a-z]+)\]", services, re.M).group(1)
    infrastructure = re.sub(r'^ops_status_service = "[a-z]+"', f'ops_status_service = "{first}"', infrastructure,
                            flags=re.M)
    return f"{kinds}\n{services}\n{infrastructure}"
