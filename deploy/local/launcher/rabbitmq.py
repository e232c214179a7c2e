"""The broker: started when it is installed here but not running, the vhost of RABBITMQ_URL created, and in it one
user per service with that service's least privileges (deploy/topology.py), its password generated once."""
from __future__ import annotations

import base64
import contextlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import topology

from .commands import run
from .config import Config, SetupError
from .progress import Progress


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", socket.gethostname())


def ensure_rabbitmq(cfg: Config, progress: Progress) -> None:
    """The broker of RABBITMQ_URL running (started here when it is installed but stopped) and its vhost there."""
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
    vhost = _vhost(cfg)
    if vhost != "/":
        with progress.step(f"Making sure the RabbitMQ vhost {vhost!r} exists"):
            ensure_vhost(host, vhost, unquote(url.username or "guest"), unquote(url.password or "guest"),
                         cfg.shop.broker["management_port"])


def _vhost(cfg: Config) -> str:
    path = urlsplit(cfg.rabbitmq_url).path
    return unquote(path[1:]) if path not in ("", "/") else "/"


def _credentials_file(cfg: Config) -> Path:
    return cfg.secrets_dir / "rabbitmq-users.json"


def credentials(cfg: Config) -> dict[str, dict]:
    """service → {"user", "password"}: generated once into $SHOP_DATA_DIR/secrets/ (mode 600), the same on every
    start. User names carry the shop's instance id: users are global on a broker that several shops may share."""
    path = _credentials_file(cfg)
    known = json.loads(path.read_text()) if path.exists() else {}
    missing = [s.name for s in cfg.shop.services if s.name not in known]
    if missing:
        for name in missing:
            known[name] = {"user": f"shop-{cfg.instance_id}-{name}", "password": secrets.token_hex(24)}
        cfg.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(known, f, indent=2)
        temporary.replace(path)
    return known


def service_url(cfg: Config, service: str) -> str:
    """RABBITMQ_URL with ``service``'s own user instead of the administrator of RABBITMQ_URL."""
    parts = urlsplit(cfg.rabbitmq_url)
    account = credentials(cfg)[service]
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(account['user'], safe='')}:{quote(account['password'], safe='')}@" + (
        f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def definitions(cfg: Config) -> dict:
    """The services' users and their permissions in the vhost (deploy/topology.py), only password hashes in it."""
    accounts = {name: (a["user"], a["password"]) for name, a in credentials(cfg).items()}
    return topology.broker_definitions(cfg.shop, _vhost(cfg), accounts)


def ensure_service_users(cfg: Config, progress: Progress) -> None:
    """Create (or bring back to their generated passwords and least privileges) the services' broker users: through
    the management API when it answers (an HTTP call, where rabbitmqctl starts an Erlang VM), else with
    `rabbitmqctl import_definitions` on a local broker. Raises SetupError quoting what each way said."""
    url = urlsplit(cfg.rabbitmq_url)
    host = url.hostname or "127.0.0.1"
    document = definitions(cfg)
    api = f"http://{host}:{cfg.shop.broker['management_port']}/api/definitions"
    with progress.step(f"Giving each service its own RabbitMQ user in vhost {_vhost(cfg)!r}"):
        api_said = "it does not answer"
        if port_open(host, cfg.shop.broker["management_port"], timeout=0.5):
            try:
                _management_call(api, "POST", document, unquote(url.username or "guest"),
                                 unquote(url.password or "guest"), timeout=30)
                return
            except (urllib.error.URLError, OSError) as exc:
                api_said = str(exc)
        ctl = _rabbitmqctl()
        cli_said = "rabbitmqctl is not installed here" if not ctl else "the broker is not on this machine"
        if ctl and _local(host):
            with _definitions_file_for_cli(document) as path:
                for attempt in range(3):  # the CLI fails now and then while the node is busy: try again
                    done = subprocess.run([ctl, "-q", "import_definitions", str(path)], text=True,
                                          capture_output=True, timeout=120)
                    if done.returncode == 0:
                        return
                    time.sleep(2 * (attempt + 1))
            cli_said = (f"`rabbitmqctl import_definitions` exited with {done.returncode}: "
                        f"{(done.stderr or done.stdout).strip()[-400:]}")
        raise SetupError(f"cannot create the services' RabbitMQ users: the management API at {api} said: "
                         f"{api_said}; and {cli_said}")


@contextlib.contextmanager
def _definitions_file_for_cli(document: dict):
    """The definitions document in a private temporary file that the CLI can read, removed afterwards.

    Debian's rabbitmqctl wrapper, run as root, re-runs itself as the `rabbitmq` user (`su rabbitmq`), and the CLI
    reads the file as that user: a file in $SHOP_DATA_DIR/secrets (mode 700, ours) is unreadable to it ("File ...
    does not exist"), and 3.10's `import_definitions -` does not read stdin. So the file, which holds password
    hashes, lives in a fresh 700 folder owned by whoever runs the CLI, only for the import."""
    folder = Path(tempfile.mkdtemp(prefix="shop-broker-definitions-"))
    try:
        path = folder / "definitions.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(document, f)
        if os.geteuid() == 0:
            try:
                cli_user = pwd.getpwnam("rabbitmq")
            except KeyError:
                cli_user = None  # no wrapper user: the CLI runs as root and reads the file as it is
            if cli_user is not None:
                for owned in (folder, path):
                    os.chown(owned, cli_user.pw_uid, cli_user.pw_gid)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _management_call(url: str, method: str, body: dict, user: str, password: str, *, timeout: float) -> None:
    """One JSON request to RabbitMQ's management API with basic auth; raises URLError/OSError when it fails."""
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": auth, "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=timeout).close()


def _rabbitmqctl() -> str | None:
    return shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if Path("/usr/sbin/rabbitmqctl").exists() else None)


def management_url(cfg: Config) -> str | None:
    """The management UI's address when the plugin answers (the banner shows it)."""
    host = urlsplit(cfg.rabbitmq_url).hostname or "127.0.0.1"
    port = cfg.shop.broker["management_port"]
    return f"http://{host}:{port}/" if port_open(host, port, timeout=0.5) else None


def ensure_vhost(host: str, vhost: str, user: str, password: str, management_port: int) -> None:
    """Create ``vhost`` and give ``user`` full rights on it: through the management API when it answers (an HTTP
    call, where each rabbitmqctl call starts an Erlang VM: about a second of CPU), else with rabbitmqctl when the
    broker is local and we may use it."""
    api = f"http://{host}:{management_port}/api"
    api_said = "it does not answer"
    if port_open(host, management_port, timeout=0.5):
        try:
            for path, body in ((f"/vhosts/{quote(vhost, safe='')}", {}),
                               (f"/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                                {"configure": ".*", "write": ".*", "read": ".*"})):
                _management_call(api + path, "PUT", body, user, password, timeout=10)
            return
        except (urllib.error.URLError, OSError) as exc:
            api_said = str(exc)
    ctl = _rabbitmqctl()
    if ctl and _local(host):
        for attempt in range(3):  # the CLI fails now and then while the node is busy or restarting: try again
            added = subprocess.run([ctl, "-q", "add_vhost", vhost], text=True, capture_output=True, timeout=60)
            if added.returncode == 0 or "already exists" in added.stdout + added.stderr:
                run([ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                    what=f"rabbitmqctl set_permissions -p {vhost} {user}")
                return
            time.sleep(2 * (attempt + 1))
    raise SetupError(f"cannot create the RabbitMQ vhost {vhost!r}: the management API at {api} said: {api_said}, "
                     f"and rabbitmqctl is not usable here. Create it with\n"
                     f"  rabbitmqctl add_vhost {vhost} && rabbitmqctl set_permissions -p {vhost} {user} "
                     f"'.*' '.*' '.*'")
