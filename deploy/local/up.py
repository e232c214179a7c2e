"""`make up`: install what is missing, prepare the databases, and run the whole shop under supervisord until Ctrl-C.

Standard library only, so it runs on a fresh machine before the virtualenv exists (`python3 deploy/local/up.py`).
Every setting comes from the environment (DESIGN.md §7, deploy/README.md); the e2e suite starts a second,
independent shop with another SHOP_DATA_DIR, other ports and its own RabbitMQ vhost.

    python3 deploy/local/up.py                # install, prepare, run (foreground; Ctrl-C stops)
    python3 deploy/local/up.py --no-install   # skip apt, pip and npm (tests, CI, offline)
    python3 deploy/local/up.py --render-only  # write and check the nginx and supervisor configs, then exit
    python3 deploy/local/up.py --install-only # only install what is missing (CI, before the e2e suite)
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
NGINX_DIR = REPO / "deploy" / "nginx"
LOCAL_DIR = REPO / "deploy" / "local"
VENV = REPO / ".venv"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_CORS_ORIGINS = "http://localhost:5173,http://127.0.0.1:5173"  # the Vite dev server


@dataclass(frozen=True)
class Service:
    """One Django service and the processes it runs; ports are SHOP_PORT_BASE + offset (+ 10 per extra instance)."""

    name: str
    offset: int
    web_instances: int  # separate gunicorn masters behind one nginx upstream
    consumes: bool  # identity consumes nothing, so it runs no consumer


# product (catalog browsing) and order (placing and following orders) carry the traffic, so each runs two
# gunicorn masters on separate ports: nginx spreads requests over them and, when one is down or restarting,
# retries idempotent requests on the other. identity and email run one master each. Every master runs
# SHOP_WEB_WORKERS gthread workers (threads keep upstream keep-alive connections open).
SERVICES = (
    Service("identity", 1, 1, consumes=False),
    Service("product", 2, 2, consumes=True),
    Service("order", 3, 2, consumes=True),
    Service("email", 4, 1, consumes=True),
)


class SetupError(Exception):
    """Something the launcher cannot fix by itself; the message says what to do."""


# --- configuration -------------------------------------------------------------------------------------------
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
    web_workers: int
    rates: dict
    catalog_cache_seconds: int
    max_body_bytes: int
    start_timeout: int
    services: list[Service] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> "Config":
        http_port = _env_int("SHOP_HTTP_PORT", 8080)
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
            data_dir=data_dir.resolve(),
            http_port=http_port,
            https_port=_env_int("SHOP_HTTPS_PORT", 8443),
            bind_address=_env("SHOP_BIND_ADDRESS", "127.0.0.1"),
            port_base=_env_int("SHOP_PORT_BASE", 8000),
            smtp_port=_env_int("SHOP_SMTP_PORT", 1025),
            mailbox_port=_env_int("SHOP_MAILBOX_PORT", 8025),
            public_url=_env("SHOP_PUBLIC_URL", f"http://localhost:{http_port}").rstrip("/"),
            rabbitmq_url=_env("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
            email_host=os.environ.get("EMAIL_HOST", ""),
            email_port=_env_int("EMAIL_PORT", _env_int("SHOP_SMTP_PORT", 1025)),
            cors_origins=[o.strip() for o in _env("SHOP_CORS_ORIGINS", DEFAULT_CORS_ORIGINS).split(",") if o.strip()],
            admin_email=_env("SHOP_ADMIN_EMAIL", "admin@example.com"),
            admin_password=_env("SHOP_ADMIN_PASSWORD", "admin"),
            admin_name=_env("SHOP_ADMIN_NAME", "Shop Admin"),
            demo_data=_env("SHOP_DEMO_DATA", "1").strip().lower() not in ("0", "false", "no", "off"),
            web_workers=_env_int("SHOP_WEB_WORKERS", 2),
            rates=rates,
            catalog_cache_seconds=_env_int("SHOP_CATALOG_CACHE_SECONDS", 1),
            max_body_bytes=_env_int("SHOP_MAX_BODY_BYTES", 1024 * 1024),
            start_timeout=_env_int("SHOP_START_TIMEOUT", 180),
            services=[s for s in SERVICES if (REPO / "services" / s.name / "manage.py").exists()],
        )

    # folders under SHOP_DATA_DIR
    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

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
    def uses_local_sink(self) -> bool:
        return not self.email_host

    def web_ports(self, service: Service) -> list[int]:
        return [self.port_base + service.offset + 10 * i for i in range(service.web_instances)]

    def service_env(self) -> dict:
        """The environment of every process of the shop: the caller's, plus what ties this shop together."""
        identity_port = self.port_base + SERVICES[0].offset
        env = dict(os.environ)
        env.update({
            "SHOP_DATA_DIR": str(self.data_dir),
            "RABBITMQ_URL": self.rabbitmq_url,
            "SHOP_JWKS_URL": os.environ.get("SHOP_JWKS_URL")
            or f"http://127.0.0.1:{identity_port}/api/v1/auth/jwks.json",
            "SHOP_PUBLIC_URL": self.public_url,
            "EMAIL_HOST": self.email_host or "127.0.0.1",
            "EMAIL_PORT": str(self.email_port if self.email_host else self.smtp_port),
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        return env


# --- progress on the terminal --------------------------------------------------------------------------------
class Progress:
    """Prints each step as it starts and when it is done (steps may run side by side)."""

    def step(self, text: str) -> "_Step":
        return _Step(text)

    @staticmethod
    def note(text: str) -> None:
        print(f"  {text}", flush=True)


class _Step:
    def __init__(self, text: str):
        self.text, self.started = text, time.monotonic()
        print(f"▸ {text} …", flush=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            short = self.text if len(self.text) <= 40 else self.text[:37] + "…"
            print(f"  done in {time.monotonic() - self.started:.1f}s ({short})", flush=True)


def run(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, quiet: bool = True,
        what: str = "") -> subprocess.CompletedProcess:
    """Run ``cmd``; on failure raise SetupError carrying the tail of its output."""
    result = subprocess.run(cmd, env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)
    if result.returncode != 0:
        tail = "\n".join((result.stdout or "").strip().splitlines()[-25:])
        raise SetupError(f"{what or ' '.join(cmd)} failed (exit {result.returncode})\n{tail}")
    return result


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        if path.exists():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# --- installing ----------------------------------------------------------------------------------------------
def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()),
                                        None)


def apt_install(packages: list[str]) -> None:
    """Install Debian packages without letting them start system services (the supervisor runs ours)."""
    if os.geteuid() != 0:
        raise SetupError(f"missing system packages: {' '.join(packages)}. Install them with\n"
                         f"  sudo apt-get install -y {' '.join(packages)}\nand run make up again.")
    if not shutil.which("apt-get"):
        raise SetupError(f"missing system packages: {' '.join(packages)}; install them with your package manager.")
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:  # keeps Debian's nginx from starting a system-wide server on port 80
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env, what="apt-get update")
        run(["apt-get", "install", "-y", "-qq", *packages], env=env, what=f"apt-get install {' '.join(packages)}")
    finally:
        if made_policy:
            policy.unlink(missing_ok=True)


def install_system_packages(progress: Progress) -> None:
    missing = []
    if not nginx_binary():
        missing.append("nginx")
    if (REPO / "frontend" / "package.json").exists() and not shutil.which("npm"):
        missing += ["nodejs", "npm"]
    if not shutil.which("openssl"):
        missing.append("openssl")
    if missing:
        with progress.step(f"Installing system packages: {' '.join(missing)}"):
            apt_install(missing)


def python_requirements() -> list[str]:
    """pip arguments: the lead's requirements-dev.txt when present, else shopkit and every service's own list."""
    dev = REPO / "requirements-dev.txt"
    if dev.exists():
        args = ["-r", str(dev)]
    else:
        args = ["-e", str(REPO / "libs" / "shopkit")]
        for req in sorted((REPO / "services").glob("*/requirements.txt")):
            args += ["-r", str(req)]
    return args + ["gunicorn", "supervisor"]  # what the launcher itself runs


def ensure_virtualenv(progress: Progress) -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        with progress.step(f"Creating the virtualenv {VENV.relative_to(REPO)}"):
            run([sys.executable, "-m", "venv", str(VENV)], what="python -m venv")
    sources = [REPO / "requirements-dev.txt", REPO / "libs" / "shopkit" / "pyproject.toml",
               *sorted((REPO / "services").glob("*/requirements.txt"))]
    stamp, digest = VENV / ".shop-up-requirements", _digest(*sources)
    if stamp.exists() and stamp.read_text() == digest:
        return
    with progress.step("Installing Python packages (pip)"):
        run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *python_requirements()],
            cwd=REPO, what="pip install")  # requirement files name paths relative to the checkout
        stamp.write_text(digest)


def _npm_install(folder: Path, progress: Progress, label: str) -> None:
    lock = folder / "package-lock.json"
    stamp, digest = folder / "node_modules" / ".shop-up-stamp", _digest(folder / "package.json", lock)
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not shutil.which("npm"):
        raise SetupError(f"npm is missing: needed for {label}. Install nodejs and npm (apt-get install nodejs npm).")
    with progress.step(f"Installing npm packages for {label}"):
        cmd = ["npm", "ci" if lock.exists() else "install", "--no-audit", "--no-fund", "--loglevel=error"]
        if folder == NGINX_DIR:
            cmd.append("--ignore-scripts")  # static files only; swagger-ui-dist's dependency would phone home
        run(cmd, cwd=folder, what=f"npm in {folder.relative_to(REPO)}")
        stamp.write_text(digest)


def _newest_source(frontend: Path) -> float:
    newest = 0.0
    for root, dirs, files in os.walk(frontend):
        dirs[:] = [d for d in dirs if d not in ("node_modules", "dist", ".vite")]
        for name in files:
            newest = max(newest, (Path(root) / name).stat().st_mtime)
    return newest


def ensure_frontend(progress: Progress) -> None:
    frontend = REPO / "frontend"
    if not (frontend / "package.json").exists():
        return
    _npm_install(frontend, progress, "the frontend")
    built = frontend / "dist" / "index.html"
    if built.exists() and built.stat().st_mtime >= _newest_source(frontend):
        return
    with progress.step("Building the frontend (npm run build)"):
        run(["npm", "run", "build"], cwd=frontend, what="npm run build in frontend/")


def ensure_gateway_assets(progress: Progress) -> None:
    try:
        _npm_install(NGINX_DIR, progress, "the gateway (Swagger UI)")
    except SetupError as exc:
        progress.note(f"warning: {exc} — /api/docs/ will be missing")


# --- TLS -----------------------------------------------------------------------------------------------------
def ensure_certificate(cfg: Config, progress: Progress) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, made once per SHOP_DATA_DIR and reused after."""
    cert, key = cfg.tls_dir / "gateway.crt", cfg.tls_dir / "gateway.key"
    if cert.exists() and key.exists():
        return cert, key
    cfg.tls_dir.mkdir(parents=True, exist_ok=True)
    with progress.step("Creating a self-signed TLS certificate"):
        if shutil.which("openssl"):
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
                 "-subj", "/CN=localhost/O=Shop (development)", "-keyout", str(key), "-out", str(cert),
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"], what="openssl req")
        else:
            run([str(VENV / "bin" / "python"), str(LOCAL_DIR / "selfsigned.py"), str(cert), str(key)],
                what="making the certificate with cryptography")
        key.chmod(0o600)
        progress.note(f"{cert} (trust it in your browser, or accept the warning once)")
    return cert, key


# --- rendering -----------------------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")


def render(template: str, values: dict) -> str:
    def fill(match):
        name = match.group(1)
        if name not in values:
            raise SetupError(f"template placeholder {{{{{name}}}}} has no value")
        return str(values[name])
    return PLACEHOLDER.sub(fill, template)


def _worker_user() -> str:
    """As root, nginx's workers run as the owner of the checkout: they can read the files they serve, and are
    not root. As anyone else nginx keeps the caller's user and the directive is left out."""
    if os.geteuid() != 0:
        return ""
    st = REPO.stat()
    return f"user {pwd.getpwuid(st.st_uid).pw_name} {grp.getgrgid(st.st_gid).gr_name};"


def _servers(ports: list[int]) -> str:
    return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in ports)


def _nginx_string(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.:/\[\]_-]+", value):
        raise SetupError(f"SHOP_CORS_ORIGINS entry {value!r} is not an origin like https://shop.example.com")
    return f'"{value}"'


CSP_SPA = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
           "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'none'")
CSP_DOCS = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def spa_root() -> Path:
    dist = REPO / "frontend" / "dist"
    return dist if (dist / "index.html").exists() else NGINX_DIR / "placeholder"


def render_gateway(cfg: Config, cert: Path, key: Path) -> Path:
    conf_dir = cfg.gateway_dir
    conf_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "nginx").mkdir(parents=True, exist_ok=True)
    ports = {s.name: cfg.web_ports(s) for s in SERVICES}
    auth_rate, auth_unit = re.fullmatch(r"(\d+)r/([sm])", cfg.rates["RATE_AUTH"]).groups()
    values = {
        **cfg.rates,
        "USER_DIRECTIVE": _worker_user(),
        "CONF_DIR": conf_dir,
        "RUN_DIR": cfg.run_dir / "nginx",
        "LOG_DIR": cfg.log_dir,
        "CACHE_DIR": cfg.data_dir / "cache" / "catalog",
        "BIND_ADDRESS": cfg.bind_address,
        "HTTP_PORT": cfg.http_port,
        "HTTPS_PORT": cfg.https_port,
        "TLS_CERT": cert,
        "TLS_KEY": key,
        "MAX_BODY_BYTES": cfg.max_body_bytes,
        "CATALOG_CACHE_SECONDS": cfg.catalog_cache_seconds,
        "RETRY_AFTER_SECONDS": max(1, -(-(60 if auth_unit == "m" else 1) // max(1, int(auth_rate)))),
        "CORS_ORIGIN_MAP": "\n".join(f"        {_nginx_string(o)} $http_origin;" for o in cfg.cors_origins),
        "IDENTITY_SERVERS": _servers(ports["identity"]),
        "PRODUCT_SERVERS": _servers(ports["product"]),
        "ORDER_SERVERS": _servers(ports["order"]),
        "EMAIL_SERVERS": _servers(ports["email"]),
        "SWAGGER_DIST_DIR": NGINX_DIR / "node_modules" / "swagger-ui-dist",
        "SWAGGER_CONFIG_DIR": NGINX_DIR / "swagger",
        "SPA_ROOT": spa_root(),
        "CSP_SPA": CSP_SPA,
        "CSP_DOCS": CSP_DOCS,
    }
    for source in sorted(NGINX_DIR.iterdir()):
        if source.suffix == ".conf" or source.name in ("nginx.conf.template", "mime.types"):
            target = conf_dir / source.name.removesuffix(".template")
            target.write_text(render(source.read_text(), values))
    (cfg.data_dir / "cache").mkdir(parents=True, exist_ok=True)
    return conf_dir / "nginx.conf"


def nginx_command(cfg: Config) -> list[str]:
    return [nginx_binary() or "nginx", "-p", f"{cfg.run_dir / 'nginx'}/", "-c", str(cfg.gateway_dir / "nginx.conf"),
            "-e", str(cfg.log_dir / "gateway-error.log")]


def check_gateway_config(cfg: Config) -> None:
    result = subprocess.run([*nginx_command(cfg), "-t", "-q"], text=True, capture_output=True)
    if result.returncode != 0:
        raise SetupError(f"the rendered nginx config does not load:\n{result.stderr.strip()}")


@dataclass
class Program:
    name: str
    command: list[str]
    directory: Path
    priority: int
    startsecs: int = 3
    stopsignal: str = "TERM"
    ready_port: int | None = None  # answers GET /readyz when ready
    ready_log: str = ""  # or prints this into its log when ready


def _supervisor_quote(value: str) -> str:
    escaped = value.replace("%", "%%")
    return f'"{escaped}"' if re.search(r"\s", escaped) else escaped


def _gunicorn_extra_args() -> list[str]:
    """gunicorn 25+ opens a control socket at one fixed path per user, which every master of every shop on the
    machine would fight over; we never use it."""
    global _GUNICORN_EXTRA
    if _GUNICORN_EXTRA is None:
        result = subprocess.run([str(VENV / "bin" / "gunicorn"), "--help"], text=True, capture_output=True)
        _GUNICORN_EXTRA = ["--no-control-socket"] if "--no-control-socket" in result.stdout else []
    return _GUNICORN_EXTRA


_GUNICORN_EXTRA: list[str] | None = None


def programs(cfg: Config) -> list[Program]:
    python = str(VENV / "bin" / "python")
    table = []
    for service in cfg.services:
        folder = REPO / "services" / service.name
        for index, port in enumerate(cfg.web_ports(service), start=1):
            table.append(Program(
                f"{service.name}-web-{index}",
                [str(VENV / "bin" / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(cfg.web_workers), "--worker-class", "gthread", "--threads", "4",
                 "--keep-alive", "75", "--timeout", "30", "--graceful-timeout", "10",
                 "--name", f"{service.name}-web-{index}", *_gunicorn_extra_args()],
                folder, priority=200, startsecs=5, ready_port=port))
        if service.consumes:
            table.append(Program(f"{service.name}-consumer", [python, "manage.py", "consume_events"], folder,
                                 priority=100, ready_log='"consumer ready"'))
        table.append(Program(f"{service.name}-relay", [python, "manage.py", "outbox_relay"], folder, priority=300))
        if service.name == "email":
            table.append(Program("email-sender", [python, "manage.py", "send_emails"], folder, priority=300))
            if cfg.uses_local_sink:
                table.append(Program("smtp-sink", [python, "manage.py", "smtp_sink", "--port", str(cfg.smtp_port),
                                                   "--maildir", str(cfg.maildir), "--http-port",
                                                   str(cfg.mailbox_port)], folder, priority=50))
    table.append(Program("gateway", nginx_command(cfg), REPO, priority=400, stopsignal="QUIT"))
    return table


def render_supervisor(cfg: Config, table: list[Program]) -> Path:
    common = {"LOG_DIR": cfg.log_dir, "RUN_DIR": cfg.run_dir, "REPO_DIR": REPO,
              "SUPERVISOR_CONF": cfg.supervisor_conf,
              "INSTANCE_ID": hashlib.sha1(str(cfg.data_dir).encode()).hexdigest()[:8]}
    text = render((LOCAL_DIR / "supervisord.conf.template").read_text(), common)
    program_template = (LOCAL_DIR / "program.conf.template").read_text()
    groups: dict[str, list[str]] = {}
    for program in table:
        text += render(program_template, {
            **common, "NAME": program.name, "COMMAND": " ".join(_supervisor_quote(p) for p in program.command),
            "DIRECTORY": program.directory, "PRIORITY": program.priority,
            "STARTSECS": program.startsecs,
            "STOPSIGNAL": program.stopsignal})
        if "-web-" in program.name:
            groups.setdefault(program.name.rsplit("-", 1)[0], []).append(program.name)
    # `supervisorctl stop product-web:*` stops every web process of a service at once
    for group, names in groups.items():
        text += f"\n[group:{group}]\nprograms={','.join(names)}\npriority=200\n"
    cfg.supervisor_conf.write_text(text)
    return cfg.supervisor_conf


# --- RabbitMQ ------------------------------------------------------------------------------------------------
def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", socket.gethostname())


def ensure_rabbitmq(cfg: Config, progress: Progress) -> None:
    url = urlsplit(cfg.rabbitmq_url)
    host, port = url.hostname or "127.0.0.1", url.port or (5671 if url.scheme == "amqps" else 5672)
    if not port_open(host, port):
        if not _local(host):
            raise SetupError(f"cannot reach RabbitMQ at {host}:{port} (RABBITMQ_URL)")
        server = shutil.which("rabbitmq-server") or ("/usr/sbin/rabbitmq-server"
                                                       if Path("/usr/sbin/rabbitmq-server").exists() else None)
        if not server:
            raise SetupError("RabbitMQ is not installed and not running on this machine. Install it with\n"
                             "  sudo apt-get install -y rabbitmq-server\n"
                             "or point RABBITMQ_URL at a running broker.")
        with progress.step("Starting RabbitMQ (rabbitmq-server -detached)"):
            run([server, "-detached"], what="rabbitmq-server -detached")
            deadline = time.monotonic() + 90
            while not port_open(host, port):
                if time.monotonic() > deadline:
                    raise SetupError(f"RabbitMQ did not start listening on {host}:{port} within 90 s")
                time.sleep(1)
    vhost = unquote(url.path[1:]) if url.path not in ("", "/") else "/"
    if vhost != "/":
        with progress.step(f"Making sure the RabbitMQ vhost {vhost!r} exists"):
            ensure_vhost(host, vhost, unquote(url.username or "guest"), unquote(url.password or "guest"))


def ensure_vhost(host: str, vhost: str, user: str, password: str) -> None:
    """Create ``vhost`` and give ``user`` full rights on it: with rabbitmqctl when the broker is local and we may
    use it, else through the management API."""
    ctl = shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if Path("/usr/sbin/rabbitmqctl").exists() else None)
    if ctl and _local(host):
        added = subprocess.run([ctl, "-q", "add_vhost", vhost], text=True, capture_output=True, timeout=60)
        if added.returncode == 0 or "already exists" in added.stdout + added.stderr:
            run([ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                what=f"rabbitmqctl set_permissions -p {vhost} {user}")
            return
    api = f"http://{host}:15672/api"
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        for path, body in ((f"/vhosts/{quote(vhost, safe='')}", {}),
                           (f"/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                            {"configure": ".*", "write": ".*", "read": ".*"})):
            request = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="PUT",
                                             headers={"Authorization": auth, "Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).close()
    except (urllib.error.URLError, OSError) as exc:
        raise SetupError(f"cannot create the RabbitMQ vhost {vhost!r}: rabbitmqctl is not usable here and the "
                         f"management API at {api} said: {exc}. Create it with\n"
                         f"  rabbitmqctl add_vhost {vhost} && rabbitmqctl set_permissions -p {vhost} {user} "
                         f"'.*' '.*' '.*'") from None


# --- databases -----------------------------------------------------------------------------------------------
def manage(cfg: Config, service: str, *args: str) -> subprocess.CompletedProcess:
    return run([str(VENV / "bin" / "python"), "manage.py", *args], env=cfg.service_env(),
               cwd=REPO / "services" / service, what=f"{service}: manage.py {' '.join(args[:1])}")


def prepare_databases(cfg: Config, progress: Progress) -> None:
    if not cfg.services:
        progress.note("no services found under services/*/manage.py: only the gateway will run")
        return
    with progress.step(f"Migrating the databases of {', '.join(s.name for s in cfg.services)}"):
        with ThreadPoolExecutor(max_workers=len(cfg.services)) as pool:
            for future in [pool.submit(manage, cfg, s.name, "migrate", "--noinput") for s in cfg.services]:
                future.result()
    names = {s.name for s in cfg.services}
    seeds = {}
    if "identity" in names:
        seeds[f"staff account {cfg.admin_email}"] = ("identity", "create_staff", "--email", cfg.admin_email,
                                                     "--password", cfg.admin_password, "--name", cfg.admin_name)
    if "product" in names and cfg.demo_data:
        seeds["demo catalog (only into an empty catalog)"] = ("product", "seed_demo_catalog")
    if seeds:
        with progress.step(f"Seeding: {'; '.join(seeds)}"):
            with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
                outputs = [pool.submit(manage, cfg, *args) for args in seeds.values()]
                for output in outputs:
                    out = output.result().stdout.strip()
                    if out:
                        progress.note(out.splitlines()[-1])


def declare_topology(cfg: Config, progress: Progress) -> None:
    """Bind every consumer's queue before any relay publishes: an event with no bound queue would be dropped."""
    consumers = [s for s in cfg.services if s.consumes]
    if not consumers:
        return
    with progress.step(f"Declaring the queues of {', '.join(s.name for s in consumers)}"):
        with ThreadPoolExecutor(max_workers=len(consumers)) as pool:
            for future in [pool.submit(manage, cfg, s.name, "declare_topology") for s in consumers]:
                future.result()


# --- running -------------------------------------------------------------------------------------------------
def check_not_running(cfg: Config) -> None:
    pidfile = cfg.run_dir / "supervisord.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return
    raise SetupError(f"a shop is already running with SHOP_DATA_DIR={cfg.data_dir} (supervisord pid {pid}); "
                     f"stop it first, or use another SHOP_DATA_DIR")


def check_ports_free(cfg: Config, table: list[Program]) -> None:
    wanted = {cfg.http_port: "SHOP_HTTP_PORT", cfg.https_port: "SHOP_HTTPS_PORT"}
    for program in table:
        if program.ready_port:
            wanted[program.ready_port] = f"{program.name} (SHOP_PORT_BASE)"
    if cfg.uses_local_sink and "email" in {s.name for s in cfg.services}:
        wanted[cfg.smtp_port] = "SHOP_SMTP_PORT"
        wanted[cfg.mailbox_port] = "SHOP_MAILBOX_PORT"
    for port, setting in wanted.items():
        host = cfg.bind_address if setting.startswith("SHOP_HTTP") else "127.0.0.1"
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                raise SetupError(f"port {port} is already in use; it is {setting}: set another value "
                                 f"(is another shop running?)") from None


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def supervisorctl(cfg: Config, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV / "bin" / "supervisorctl"), "-c", str(cfg.supervisor_conf), *args],
                          text=True, capture_output=True, timeout=60)


class Launcher:
    """Runs supervisord in the foreground and stops it, and with it every process, on Ctrl-C or SIGTERM."""

    def __init__(self, cfg: Config, table: list[Program], progress: Progress):
        self.cfg, self.table, self.progress = cfg, table, progress
        self.supervisord: subprocess.Popen | None = None
        self.stop_requested: int | None = None  # the signal that asked us to stop
        self.stopping = False

    def _on_signal(self, signum, frame):
        self.stop_requested = signum  # acted on by the main loop (see _stop), never inside the handler

    def _stop(self) -> None:
        """Stop every process at once. supervisord alone would stop its groups one after another, waiting for
        each, which takes long with sixteen processes; in its shutdown mood it restarts nothing, so we can
        signal every process group (what stopasgroup would do) in parallel while it waits for them."""
        if self.stopping:
            return
        self.stopping = True
        print(f"\n▸ Stopping the shop ({signal.Signals(self.stop_requested).name}) …", flush=True)
        listing = supervisorctl(self.cfg, "pid", "all")
        if self.supervisord.poll() is None:
            self.supervisord.send_signal(signal.SIGTERM)
        time.sleep(0.2)  # let supervisord enter its shutdown mood first
        for line in listing.stdout.split():
            if line.isdigit() and int(line) > 0:
                try:
                    os.killpg(int(line), signal.SIGTERM)
                except OSError:
                    pass  # already gone

    def log_offsets(self) -> dict[str, int]:
        return {p.name: (self.cfg.log_dir / f"{p.name}.log").stat().st_size
                if (self.cfg.log_dir / f"{p.name}.log").exists() else 0 for p in self.table}

    def _logged_since(self, program: Program, offset: int) -> str:
        path = self.cfg.log_dir / f"{program.name}.log"
        if not path.exists():
            return ""
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def run(self) -> int:
        ready_file = self.cfg.run_dir / "ready.json"
        ready_file.unlink(missing_ok=True)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        offsets = self.log_offsets()
        print(f"▸ Starting {len(self.table)} processes under supervisord …", flush=True)
        # its own log is in $SHOP_DATA_DIR/logs/supervisord.log; the terminal shows our progress instead
        self.supervisord = subprocess.Popen([str(VENV / "bin" / "supervisord"), "-c", str(self.cfg.supervisor_conf)],
                                            env=self.cfg.service_env(), cwd=REPO, stdout=subprocess.DEVNULL)
        try:
            if self.wait_until_ready(offsets):
                ready_file.write_text(json.dumps(self.urls(), indent=2))
                self.print_banner()
            while self.supervisord.poll() is None:
                if self.stop_requested is not None:
                    self._stop()
                try:
                    self.supervisord.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            ready_file.unlink(missing_ok=True)
            if self.supervisord.poll() is None:
                self.supervisord.terminate()
                try:
                    self.supervisord.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.supervisord.kill()
        code = self.supervisord.returncode
        if self.stopping:
            print("▸ The shop has stopped; its data stays in " f"{self.cfg.data_dir}.", flush=True)
            return 0
        print(f"▸ supervisord exited ({code}); see {self.cfg.log_dir / 'supervisord.log'}", flush=True)
        return code or 1

    def _probe(self, program: Program, offset: int) -> bool:
        if program.ready_port:
            return http_ok(f"http://127.0.0.1:{program.ready_port}/readyz", timeout=2)
        return program.ready_log in self._logged_since(program, offset)

    def wait_until_ready(self, offsets: dict[str, int]) -> bool:
        deadline = time.monotonic() + self.cfg.start_timeout
        pending = {p.name: p for p in self.table if p.ready_port or p.ready_log}
        last_report = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            while self.stop_requested is None and self.supervisord.poll() is None:
                probes = {name: pool.submit(self._probe, p, offsets[name]) for name, p in pending.items()}
                for name, probe in probes.items():
                    if probe.result():
                        del pending[name]
                        print(f"  ✓ {name}", flush=True)
                if not pending and http_ok(f"http://127.0.0.1:{self.cfg.http_port}/healthz"):
                    print("  ✓ gateway", flush=True)
                    return True
                if time.monotonic() > deadline:
                    print(f"! Not ready after {self.cfg.start_timeout}s: {', '.join(sorted(pending)) or 'gateway'}. "
                          f"The shop keeps running and retrying; see the logs in {self.cfg.log_dir}", flush=True)
                    return False
                if time.monotonic() - last_report > 10:
                    print(f"  … waiting for {', '.join(sorted(pending)) or 'the gateway'}", flush=True)
                    last_report = time.monotonic()
                time.sleep(0.5)
        return False

    def urls(self) -> dict:
        cfg = self.cfg
        https = f"https://localhost:{cfg.https_port}/"
        urls = {"shop": f"{cfg.public_url}/", "shop_https": https, "api_docs": f"{cfg.public_url}/api/docs/",
                "supervisor_conf": str(cfg.supervisor_conf), "logs": str(cfg.log_dir)}
        if cfg.uses_local_sink:
            urls["mailbox"] = f"http://127.0.0.1:{cfg.mailbox_port}/"
            urls["maildir"] = str(cfg.maildir)
        host = urlsplit(cfg.rabbitmq_url).hostname or "127.0.0.1"
        if port_open(host, 15672, timeout=0.5):
            urls["rabbitmq_management"] = f"http://{host}:15672/"
        return urls

    def print_banner(self) -> None:
        urls, cfg = self.urls(), self.cfg
        lines = [
            "",
            "The shop is running.",
            f"  Shop            {urls['shop']}   (HTTPS, self-signed: {urls['shop_https']})",
            f"  API docs        {urls['api_docs']}",
        ]
        if "mailbox" in urls:
            lines.append(f"  Mailbox         {urls['mailbox']}   (files in {urls['maildir']})")
        else:
            lines.append(f"  Email           sent to {cfg.email_host}:{cfg.email_port}")
        if "rabbitmq_management" in urls:
            lines.append(f"  RabbitMQ UI     {urls['rabbitmq_management']}")
        lines += [
            f"  Staff login     {cfg.admin_email} / {'*' * len(cfg.admin_password) if 'SHOP_ADMIN_PASSWORD' in os.environ else cfg.admin_password}",
            f"  Data and logs   {cfg.data_dir}  (logs in {cfg.log_dir})",
            f"  Processes       {VENV.relative_to(REPO)}/bin/supervisorctl -c {cfg.supervisor_conf} status",
            "Press Ctrl-C to stop.",
            "",
        ]
        print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-install", action="store_true", help="skip apt-get, pip and npm")
    parser.add_argument("--render-only", action="store_true", help="write and check the configs, then exit")
    parser.add_argument("--install-only", action="store_true",
                        help="install what is missing (apt, pip, npm, frontend build), then exit: for CI")
    args = parser.parse_args(argv)
    progress = Progress()

    def interrupt(signum, frame):  # before supervisord runs, SIGTERM stops the setup like Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        cfg = Config.from_env()
        print(f"Shop in {REPO} — data in {cfg.data_dir}", flush=True)
        check_not_running(cfg)
        if not args.no_install:
            install_system_packages(progress)
            ensure_virtualenv(progress)
            ensure_frontend(progress)
            ensure_gateway_assets(progress)
        if args.install_only:
            return 0
        if not nginx_binary():
            raise SetupError("nginx is not installed (run without --no-install, or apt-get install nginx)")
        for tool in ("supervisord", "supervisorctl", "gunicorn"):
            if not (VENV / "bin" / tool).exists():
                raise SetupError(f"{VENV}/bin/{tool} is missing (run without --no-install)")
        for folder in (cfg.log_dir, cfg.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        cert, key = ensure_certificate(cfg, progress)
        table = programs(cfg)
        with progress.step("Rendering the gateway and supervisor configuration"):
            render_gateway(cfg, cert, key)
            check_gateway_config(cfg)
            render_supervisor(cfg, table)
            progress.note(f"{cfg.gateway_dir / 'nginx.conf'}, {cfg.supervisor_conf}")
            if spa_root() != REPO / "frontend" / "dist":
                progress.note("frontend/dist is missing: / shows a placeholder page")
        if args.render_only:
            return 0
        check_ports_free(cfg, table)
        # the broker and the databases are independent: get both ready at once
        with ThreadPoolExecutor(max_workers=1) as pool:
            broker = pool.submit(ensure_rabbitmq, cfg, progress)
            prepare_databases(cfg, progress)
            broker.result()
        declare_topology(cfg, progress)
        return Launcher(cfg, table, progress).run()
    except SetupError as exc:
        print(f"\n✗ {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\n▸ Interrupted; nothing was started.", flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
