"""The launcher's settings: every one from the environment, the ports' defaults from deploy/topology.toml."""
from __future__ import annotations

import hashlib
import importlib.util
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import topology

REPO = Path(__file__).resolve().parents[3]
NGINX_DIR = REPO / "deploy" / "nginx"
LOCAL_DIR = REPO / "deploy" / "local"
VENV = REPO / ".venv"

def _shopkit_defaults():
    # shopkit's settings schema has no imports, so the launcher reads it from the tree (before any virtualenv)
    spec = importlib.util.spec_from_file_location("shopkit_defaults", REPO / "libs/shopkit/shopkit/defaults.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEFAULT_RABBITMQ_URL = _shopkit_defaults().RABBITMQ_URL
DEFAULT_CORS_ORIGINS = "http://localhost:5173,http://127.0.0.1:5173"  # the Vite dev server
DEFAULT_ADMIN_PASSWORD = "admin"  # the development staff password: refused when the gateway is bound beyond loopback
SECRET_ENV = ("SHOP_ADMIN_PASSWORD",)  # only the seed that needs it gets it (databases.seed_commands)


class SetupError(Exception):
    """Something the launcher cannot fix by itself; the message says what to do."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        return int(raw)
    except ValueError:
        raise SetupError(f"{name} must be an integer, got {raw!r}") from None


def _rate(name: str, default: str) -> str:
    value = _env(name, default)
    if not re.fullmatch(r"\d+r/[sm]", value):
        raise SetupError(f"{name} must look like 10r/s or 30r/m, got {value!r}")
    return value


@dataclass
class Config:
    shop: topology.Topology
    data_dir: Path
    http_port: int
    https_port: int
    bind_address: str
    port_base: int
    smtp_port: int
    mailbox_port: int
    public_url: str
    rabbitmq_url: str
    email_host: str  # empty: use the local SMTP sink this launcher starts
    email_port: int
    cors_origins: list[str]
    admin_email: str
    admin_password: str
    admin_name: str
    demo_data: bool
    rates: dict
    catalog_cache_seconds: int
    max_body_bytes: int
    start_timeout: int
    services: list[topology.Service] = field(default_factory=list)  # those checked out (services/<name>/)

    @classmethod
    def from_env(cls, shop: topology.Topology | None = None) -> "Config":
        try:
            shop = shop or topology.load()
        except topology.TopologyError as exc:
            raise SetupError(f"deploy/topology.toml: {exc}") from None
        http_port = _env_int("SHOP_HTTP_PORT", shop.gateway["http_port"])
        smtp_port = _env_int("SHOP_SMTP_PORT", shop.mailbox["smtp_port"])
        data_dir = Path(_env("SHOP_DATA_DIR", str(REPO / "var")))
        if not data_dir.is_absolute():
            data_dir = Path.cwd() / data_dir  # the services run in their own folders: they get an absolute path
        rates = {
            "RATE_API": _rate("SHOP_RATE_API", "50r/s"),
            "RATE_API_BURST": str(_env_int("SHOP_RATE_API_BURST", 100)),
            "RATE_AUTH": _rate("SHOP_RATE_AUTH", "30r/m"),
            "RATE_AUTH_BURST": str(_env_int("SHOP_RATE_AUTH_BURST", 10)),
            "RATE_ORDERS": _rate("SHOP_RATE_ORDERS", "5r/s"),
            "RATE_ORDERS_BURST": str(_env_int("SHOP_RATE_ORDERS_BURST", 10)),
        }
        return cls(
            shop=shop,
            data_dir=data_dir.resolve(),
            http_port=http_port,
            https_port=_env_int("SHOP_HTTPS_PORT", shop.gateway["https_port"]),
            bind_address=_env("SHOP_BIND_ADDRESS", "127.0.0.1"),
            port_base=_env_int("SHOP_PORT_BASE", topology.LOCAL_PORT_BASE),
            smtp_port=smtp_port,
            mailbox_port=_env_int("SHOP_MAILBOX_PORT", shop.mailbox["http_port"]),
            public_url=_env("SHOP_PUBLIC_URL", f"http://localhost:{http_port}").rstrip("/"),
            rabbitmq_url=_env("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
            email_host=os.environ.get("EMAIL_HOST", ""),
            email_port=_env_int("EMAIL_PORT", smtp_port),
            cors_origins=[o.strip() for o in _env("SHOP_CORS_ORIGINS", DEFAULT_CORS_ORIGINS).split(",") if o.strip()],
            admin_email=_env("SHOP_ADMIN_EMAIL", "admin@example.com"),
            admin_password=_env("SHOP_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
            admin_name=_env("SHOP_ADMIN_NAME", "Shop Admin"),
            demo_data=_env("SHOP_DEMO_DATA", "1").strip().lower() not in ("0", "false", "no", "off"),
            rates=rates,
            catalog_cache_seconds=_env_int("SHOP_CATALOG_CACHE_SECONDS", 1),
            max_body_bytes=_env_int("SHOP_MAX_BODY_BYTES", 1024 * 1024),
            start_timeout=_env_int("SHOP_START_TIMEOUT", 180),
            services=[s for s in shop.services if (REPO / "services" / s.name / "manage.py").exists()],
        )

    # folders under SHOP_DATA_DIR
    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def pid_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def gateway_dir(self) -> Path:
        return self.data_dir / "gateway"

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def supervisor_conf(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def instance_id(self) -> str:
        """Tells this shop (its SHOP_DATA_DIR) from any other on the machine or the broker."""
        return hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:8]

    @property
    def exposed(self) -> bool:
        """The gateway is bound beyond the loopback (0.0.0.0 and :: included)."""
        if self.bind_address == "localhost":
            return False
        try:
            return not ipaddress.ip_address(self.bind_address).is_loopback
        except ValueError:
            return True  # a host name: it may resolve anywhere

    def check_exposure(self) -> None:
        """Refuse to expose the shop with the development staff password."""
        if self.exposed and self.admin_password == DEFAULT_ADMIN_PASSWORD:
            raise SetupError(f"SHOP_BIND_ADDRESS={self.bind_address} reaches beyond this machine, and the staff "
                             f"password is the development default ({DEFAULT_ADMIN_PASSWORD!r}, SHOP_ADMIN_PASSWORD "
                             f"{'is unset' if not os.environ.get('SHOP_ADMIN_PASSWORD') else 'says so'}): set "
                             f"SHOP_ADMIN_PASSWORD to a strong password, or bind to 127.0.0.1")

    @property
    def uses_local_sink(self) -> bool:
        return not self.email_host

    def web_ports(self, service: topology.Service) -> list[int]:
        return service.local_web_ports(self.port_base)

    def service_env(self, service: str | None = None) -> dict:
        """The environment of every process of the shop: the caller's, plus what ties this shop together, less
        the secrets only one command needs. With ``service``: that service's own broker user's RABBITMQ_URL;
        without (supervisord, the gateway, the SMTP sink), no broker URL at all."""
        from .rabbitmq import service_url  # the broker users are made there; it imports this module

        identity_port = self.web_ports(self.shop.service("identity"))[0]
        env = {name: value for name, value in os.environ.items() if name not in (*SECRET_ENV, "RABBITMQ_URL")}
        if service is not None:
            env["RABBITMQ_URL"] = service_url(self, service)
        env.update({
            "SHOP_DATA_DIR": str(self.data_dir),
            "SHOP_JWKS_URL": os.environ.get("SHOP_JWKS_URL")
            or f"http://127.0.0.1:{identity_port}/api/v1/auth/jwks.json",
            "SHOP_PUBLIC_URL": self.public_url,
            # where a service reaches the others' own web ports (the shop-wide ops status, shopkit.ops)
            "SHOP_SERVICE_URLS": os.environ.get("SHOP_SERVICE_URLS") or ",".join(
                f"{s.name}=http://127.0.0.1:{self.web_ports(s)[0]}" for s in self.services),
            "EMAIL_HOST": self.email_host or "127.0.0.1",
            "EMAIL_PORT": str(self.email_port if self.email_host else self.smtp_port),
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        return env
