"""The gateway's nginx config: deploy/nginx/'s templates (the location rules) filled in, with one `upstream` block
per service of deploy/topology.toml (its servers, its keepalive).

`render_config(values, shop, servers)` is the whole rendering from values, with no file written: `make up` gives
it loopback servers and paths under SHOP_DATA_DIR (`local_values`); a container image can give it service
addresses and its own paths.
"""
from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

import topology

from .config import NGINX_DIR, REPO, Config, SetupError
from .monitoring import nginx_status_port
from .render import render

# a failed backend is skipped for two seconds; the next one gets the retry (proxy_next_upstream in the template)
UPSTREAM_SERVER_OPTIONS = "max_fails=1 fail_timeout=2s"

CSP_SPA = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
           "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'none'")
CSP_DOCS = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def upstreams(shop: topology.Topology, servers: dict[str, list[str]],
              options: str = UPSTREAM_SERVER_OPTIONS) -> str:
    """One `upstream <service>` block per service, in the topology's order; ``servers`` maps each service to
    its backends' ``host:port``."""
    blocks = []
    for service in shop.services:
        addresses = servers.get(service.name)
        if not addresses:
            raise SetupError(f"the gateway has no backend for {service.name}")
        lines = [f"    upstream {service.name} {{"]
        lines += [f"        server {' '.join(filter(None, (address, options)))};" for address in addresses]
        lines += [f"        keepalive {service.upstream_keepalive};", "    }"]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def local_servers(shop: topology.Topology, port_base: int) -> dict[str, list[str]]:
    """The loopback gunicorn masters of `make up`: base + offset, +10 per further instance."""
    return {s.name: [f"127.0.0.1:{port}" for port in s.local_web_ports(port_base)] for s in shop.services}


def render_config(values: dict, shop: topology.Topology, servers: dict[str, list[str]],
                  options: str = UPSTREAM_SERVER_OPTIONS) -> dict[str, str]:
    """Every file of the gateway's config, file name → text: deploy/nginx/'s templates (nginx.conf.template,
    *.conf, mime.types) filled with ``values`` plus UPSTREAMS, SCHEMA_SERVICES and OPS_STATUS_SERVICE, which
    follow from ``shop``.
    A placeholder without a value raises SetupError."""
    # the stub_status listener: loopback on the topology's port unless the caller places it (make up: base-derived)
    values = {"NGINX_STATUS_LISTEN": f"127.0.0.1:{shop.monitoring['nginx_status_port']}", **values}
    values = {**values, "UPSTREAMS": upstreams(shop, servers, options),
              "SCHEMA_SERVICES": "|".join(s.name for s in shop.services),
              "OPS_STATUS_SERVICE": shop.gateway["ops_status_service"]}
    files = {}
    for source in sorted(NGINX_DIR.iterdir()):
        if source.suffix == ".conf" or source.name in ("nginx.conf.template", "mime.types"):
            files[source.name.removesuffix(".template")] = render(source.read_text(), values)
    return files


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()),
                                        None)


def spa_root() -> Path:
    dist = REPO / "frontend" / "dist"
    return dist if (dist / "index.html").exists() else NGINX_DIR / "placeholder"


def _worker_user() -> str:
    """As root, nginx's workers run as the owner of the checkout: they can read the files they serve, and are
    not root. As anyone else nginx keeps the caller's user and the directive is left out."""
    if os.geteuid() != 0:
        return ""
    st = REPO.stat()
    return f"user {pwd.getpwuid(st.st_uid).pw_name} {grp.getgrgid(st.st_gid).gr_name};"


def _nginx_string(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.:/\[\]_-]+", value):
        raise SetupError(f"SHOP_CORS_ORIGINS entry {value!r} is not an origin like https://shop.example.com")
    return f'"{value}"'


def public_url(value: str) -> str:
    """SHOP_PUBLIC_URL as the template's {{PUBLIC_URL}}: the allowed host and the https redirect are read from it
    there (DESIGN.md §6), so it must be a bare origin nginx can quote."""
    if not re.fullmatch(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d+)?", value):
        raise SetupError(f"SHOP_PUBLIC_URL must look like https://shop.example.com[:port], got {value!r}")
    return value


def retry_after_seconds(rate: str) -> int:
    """Retry-After for the login limit: the seconds one request's allowance takes to come back (at least 1)."""
    count, unit = re.fullmatch(r"(\d+)r/([sm])", rate).groups()
    return max(1, -(-(60 if unit == "m" else 1) // max(1, int(count))))


def local_values(cfg: Config, cert: Path, key: Path) -> dict:
    """The template values of `make up`'s gateway: paths under SHOP_DATA_DIR, settings from the environment."""
    return {
        **cfg.rates,
        "USER_DIRECTIVE": _worker_user(),
        "CONF_DIR": cfg.gateway_dir,
        "RUN_DIR": cfg.run_dir / "nginx",
        "LOG_DIR": cfg.log_dir,
        "CACHE_DIR": cfg.data_dir / "cache" / "catalog",
        "BIND_ADDRESS": cfg.bind_address,
        "HTTP_PORT": cfg.http_port,
        "HTTPS_PORT": cfg.https_port,
        "PUBLIC_URL": public_url(cfg.public_url),
        "TLS_CERT": cert,
        "TLS_KEY": key,
        "MAX_BODY_BYTES": cfg.max_body_bytes,
        "CATALOG_CACHE_SECONDS": cfg.catalog_cache_seconds,
        "RETRY_AFTER_SECONDS": retry_after_seconds(cfg.rates["RATE_AUTH"]),
        "CORS_ORIGIN_MAP": "\n".join(f"        {_nginx_string(o)} $http_origin;" for o in cfg.cors_origins),
        "SWAGGER_DIST_DIR": NGINX_DIR / "node_modules" / "swagger-ui-dist",
        "SWAGGER_CONFIG_DIR": NGINX_DIR / "swagger",
        "SPA_ROOT": spa_root(),
        "CSP_SPA": CSP_SPA,
        "CSP_DOCS": CSP_DOCS,
        "NGINX_STATUS_LISTEN": f"127.0.0.1:{nginx_status_port(cfg)}",
    }


def write_gateway(cfg: Config, cert: Path, key: Path) -> Path:
    """Render the config into $SHOP_DATA_DIR/gateway/; returns the path of nginx.conf."""
    cfg.gateway_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "nginx").mkdir(parents=True, exist_ok=True)
    (cfg.data_dir / "cache").mkdir(parents=True, exist_ok=True)
    files = render_config(local_values(cfg, cert, key), cfg.shop, local_servers(cfg.shop, cfg.port_base))
    for name, text in files.items():
        (cfg.gateway_dir / name).write_text(text)
    return cfg.gateway_dir / "nginx.conf"


def nginx_command(cfg: Config) -> list[str]:
    return [nginx_binary() or "nginx", "-p", f"{cfg.run_dir / 'nginx'}/", "-c", str(cfg.gateway_dir / "nginx.conf"),
            "-e", str(cfg.log_dir / "gateway-error.log")]


def check_gateway_config(cfg: Config) -> None:
    result = subprocess.run([*nginx_command(cfg), "-t", "-q"], text=True, capture_output=True)
    if result.returncode != 0:
        raise SetupError(f"the rendered nginx config does not load:\n{result.stderr.strip()}")
