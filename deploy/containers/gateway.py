#!/usr/bin/python3
"""The gateway image's entry point: renders nginx's config from the environment, then runs nginx in the foreground.

    shop-gateway          render into /tmp/gateway, make a self-signed certificate if none is given, exec nginx
    shop-gateway probe    GET / on the HTTP port (the image's HEALTHCHECK)

The rendering is `make up`'s own (deploy/local/launcher/gateway.py: the templates of deploy/nginx/ and one
upstream per service of deploy/topology.toml); only the values differ: the services' addresses instead of
loopback ports, paths under /tmp, logs to the container's stdout and stderr. Standard library only.
"""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

APP = Path(os.environ.get("SHOP_APP_DIR", "/app"))
sys.path[:0] = [str(APP / "deploy"), str(APP / "deploy" / "local")]

import topology  # noqa: E402
from launcher.config import Config  # noqa: E402
from launcher.gateway import local_values, render_config  # noqa: E402

WORK = Path(os.environ.get("SHOP_GATEWAY_DIR", "/tmp/gateway"))
NGINX = "/usr/sbin/nginx"


def servers(shop: topology.Topology, environ: dict) -> dict[str, list[str]]:
    """``SHOP_<SERVICE>_UPSTREAM`` (host:port, comma-separated), default ``<service>-web:<port>``."""
    result = {}
    for service in shop.services:
        raw = environ.get(f"SHOP_{service.name.upper()}_UPSTREAM") or f"{service.name}-web:{service.port}"
        result[service.name] = [address.strip() for address in raw.split(",") if address.strip()]
    return result


def certificate(environ: dict) -> tuple[Path, Path]:
    """SHOP_TLS_CERT and SHOP_TLS_KEY (e.g. a mounted secret), or a self-signed pair made now for localhost."""
    if environ.get("SHOP_TLS_CERT") and environ.get("SHOP_TLS_KEY"):
        return Path(environ["SHOP_TLS_CERT"]), Path(environ["SHOP_TLS_KEY"])
    cert, key = WORK / "tls" / "gateway.crt", WORK / "tls" / "gateway.key"
    if not cert.exists():
        cert.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
                        "-subj", "/CN=localhost/O=Shop (development)", "-keyout", str(key), "-out", str(cert),
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
                       check=True, capture_output=True)
        key.chmod(0o600)
    return cert, key


def values(cfg: Config, shop: topology.Topology, cert: Path, key: Path, environ: dict | None = None) -> dict:
    logs = WORK / "log"
    environ = {} if environ is None else environ
    return {
        **local_values(cfg, cert, key),
        # stub_status: the loopback unless NGINX_STATUS_LISTEN places it on the container network (compose's
        # exporter container reads it there; it is never published)
        "NGINX_STATUS_LISTEN": environ.get("NGINX_STATUS_LISTEN") or f"127.0.0.1:{shop.monitoring['nginx_status_port']}",
        "USER_DIRECTIVE": "",  # already the unprivileged user `shop`
        "CONF_DIR": WORK / "conf",
        "RUN_DIR": WORK / "run",
        "LOG_DIR": logs,
        "CACHE_DIR": WORK / "cache" / "catalog",
        "BIND_ADDRESS": "0.0.0.0",
        "HTTP_PORT": shop.gateway["http_port"],
        "HTTPS_PORT": shop.gateway["https_port"],
        "SWAGGER_DIST_DIR": APP / "deploy" / "nginx" / "node_modules" / "swagger-ui-dist",
        "SWAGGER_CONFIG_DIR": APP / "deploy" / "nginx" / "swagger",
        "SPA_ROOT": APP / "frontend" / "dist",
    }


def prepare(environ: dict) -> Path:
    """Write the config (and the log links to stdout/stderr); returns the path of nginx.conf."""
    shop = topology.load()
    cfg = Config.from_env(shop)
    cert, key = certificate(environ)
    for folder in ("conf", "run", "log", "cache/catalog"):
        (WORK / folder).mkdir(parents=True, exist_ok=True)
    for name, target in (("gateway-access.log", "/dev/stdout"), ("gateway-error.log", "/dev/stderr")):
        link = WORK / "log" / name
        if not link.is_symlink():
            link.symlink_to(target)  # the container's log is the gateway's log
    for name, text in render_config(values(cfg, shop, cert, key, environ), shop, servers(shop, environ)).items():
        (WORK / "conf" / name).write_text(text)
    return WORK / "conf" / "nginx.conf"


def probe() -> int:
    port = topology.load().gateway["http_port"]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"GET /: {exc}")
        return 1


def main(argv: list[str]) -> int:
    if argv and argv[0] == "probe":
        return probe()
    conf = prepare(dict(os.environ))
    command = [NGINX, "-p", f"{WORK / 'run'}/", "-c", str(conf), "-e", "/dev/stderr"]
    subprocess.run([*command, "-t", "-q"], check=True)
    os.execv(NGINX, [*command, *argv])  # the template says `daemon off;`: nginx stays in the foreground


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
