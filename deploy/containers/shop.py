#!/usr/bin/python3
"""The Python image's entry point: `shop <service> <kind>|manage …` runs that process; `shop probe` checks it.

The command and port of each process kind come from deploy/topology.toml, the one declaration the image
carries. Standard library only (the image's virtualenv is on PATH for what it runs).

    shop order web                 gunicorn on the service's port (8003)
    shop order consumer            manage.py consume_events, health on $SHOP_HEALTH_PORT (9100)
    shop identity manage migrate   manage.py migrate
    shop identity seed             the service's seed commands of the topology, in order (one-shot)
    shop broker-users              each service's broker user, named after it, with its least privileges
                                   (one-shot; $SHOP_BROKER_ADMIN_URL, $RABBITMQ_<SERVICE>_PASSWORD)
    shop probe                     GET /readyz on this container's process's port (the image's HEALTHCHECK)
"""
from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit
from pathlib import Path

APP = Path(os.environ.get("SHOP_APP_DIR", "/app"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # deploy/, for topology

import topology  # noqa: E402

USAGE = __doc__.split("\n\n", 1)[1].strip()


def command(argv: list[str], environ: dict) -> tuple[list[str], Path, dict]:
    """What to exec for ``shop <service> <what> …``: argv, working folder and environment."""
    if len(argv) < 2:
        raise SystemExit(f"usage:\n{USAGE}")
    shop = topology.load()
    service_name, what, rest = argv[0], argv[1], argv[2:]
    try:
        service = shop.service(service_name)
    except KeyError:
        raise SystemExit(f"unknown service {service_name!r} (known: {', '.join(s.name for s in shop.services)})")
    folder = APP / "services" / service.name
    env = dict(environ)
    if what == "manage":
        return ["python", "manage.py", *rest], folder, env
    if what == "seed":
        script = " && ".join(f"python manage.py {name}" for name in service.seed) or "true"
        return ["sh", "-c", script], folder, env
    process = service.process(what)
    if process is None:
        raise SystemExit(f"{service.name} runs no {what!r} process (it runs "
                         f"{', '.join(p.kind.name for p in service.processes)}; or `manage …`)")
    if process.kind.name == "web":
        env.setdefault("SHOP_HEALTH_PORT", str(process.port))  # read by `shop probe` (through /proc/1/environ)
        return [*process.kind.argv(process.port), *rest], folder, env
    env.setdefault("SHOP_HEALTH_PORT", str(process.port))  # the worker's health server (shopkit.messaging.runtime)
    return [*process.kind.argv(), *rest], folder, env


def broker_users(environ: dict, timeout: float = 120) -> int:
    """Import the services' users and permissions (topology.broker_definitions) into the broker's vhost
    ($SHOP_BROKER_VHOST, `/`) through the management API of $SHOP_BROKER_ADMIN_URL (http://user:password@host:
    port/); each user is named after its service ($SHOP_BROKER_USER_PREFIX before it, none by default), its
    password from $RABBITMQ_<SERVICE>_PASSWORD. Retried while the API starts."""
    shop = topology.load()
    admin = urlsplit(environ["SHOP_BROKER_ADMIN_URL"])
    prefix = environ.get("SHOP_BROKER_USER_PREFIX", "")
    accounts = {s.name: (prefix + s.name, environ[f"RABBITMQ_{s.name.upper()}_PASSWORD"]) for s in shop.services}
    vhost = environ.get("SHOP_BROKER_VHOST", "/")
    document = json.dumps(topology.broker_definitions(shop, vhost, accounts)).encode()
    auth = base64.b64encode(f"{unquote(admin.username or '')}:{unquote(admin.password or '')}".encode()).decode()
    api = f"{admin.scheme}://{admin.hostname}:{admin.port or 15672}/api/definitions"
    deadline = time.monotonic() + timeout
    while True:
        request = urllib.request.Request(api, data=document, method="POST", headers={
            "Authorization": f"Basic {auth}", "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10).close()
            print(f"broker users: {', '.join(user for user, _ in accounts.values())}")
            return 0
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline or (isinstance(exc, urllib.error.HTTPError) and exc.code in (400, 401)):
                print(f"broker users: {api}: {exc}", file=sys.stderr)
                return 1
            time.sleep(2)


def health_port() -> int | None:
    """This container's process's health port: our environment, else that of PID 1's child set by `command`."""
    if os.environ.get("SHOP_HEALTH_PORT"):
        return int(os.environ["SHOP_HEALTH_PORT"])
    for pid in ("1", *sorted(p.name for p in Path("/proc").iterdir() if p.name.isdigit())):
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        for entry in raw.split(b"\0"):
            if entry.startswith(b"SHOP_HEALTH_PORT="):
                return int(entry.split(b"=", 1)[1])
    return None


def probe(path: str = "/readyz") -> int:
    port = health_port()
    if port is None:
        print("no long-running process here (a one-shot job): nothing to probe")
        return 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            print(response.read(500).decode("utf-8", "replace"))
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{path}: {exc.code} {exc.read(500).decode('utf-8', 'replace')}")
    except OSError as exc:
        print(f"{path}: {exc}")
    return 1


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("help", "-h", "--help"):
        print(USAGE)
        return 0
    if argv[0] == "probe":
        return probe(argv[1] if len(argv) > 1 else "/readyz")
    if argv[0] == "broker-users":
        return broker_users(dict(os.environ))
    args, folder, env = command(argv, dict(os.environ))
    os.chdir(folder)
    os.execvpe(args[0], args, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
