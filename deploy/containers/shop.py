#!/usr/bin/python3
"""The Python image's entry point: `shop <service> <kind>|manage …` runs that process; `shop probe` checks it.

The command and port of each process kind come from deploy/topology.toml, the one declaration the image
carries. Standard library only (the image's virtualenv is on PATH for what it runs).

    shop order web                 gunicorn on the service's port (8003)
    shop order consumer            manage.py consume_events, health on $SHOP_HEALTH_PORT (9100)
    shop identity manage migrate   manage.py migrate
    shop identity seed             the service's seed commands of the topology, in order (one-shot)
    shop probe                     GET /readyz on this container's process's port (the image's HEALTHCHECK)
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
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
    args, folder, env = command(argv, dict(os.environ))
    os.chdir(folder)
    os.execvpe(args[0], args, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
