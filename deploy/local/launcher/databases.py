"""Each service's database made ready before its processes start: migrate, seed (the topology's `seed` list),
and the queues of every consuming service declared."""
from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .commands import run
from .config import DEFAULT_ADMIN_PASSWORD, REPO, VENV, Config, SetupError
from .progress import Progress

NOT_STAFF = "NOT staff:"  # how create_staff's last line starts when the address belongs to a customer


@dataclass(frozen=True)
class Seed:
    """One seed command: ``manage.py <args>`` in ``service``'s folder, with ``env`` added to that one process's
    environment (the staff password travels there, never in argv, where `ps` shows it to every local user)."""

    service: str
    args: tuple[str, ...]
    env: dict = field(default_factory=dict, compare=False)


def manage(cfg: Config, service: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run([str(VENV / "bin" / "python"), "manage.py", *args], env={**cfg.service_env(service), **(env or {})},
               cwd=REPO / "services" / service, what=f"{service}: manage.py {' '.join(args[:1])}")


def seed_commands(cfg: Config) -> dict[str, Seed]:
    """What each service's `seed` entries run under `make up`: label → Seed. The staff account comes from
    SHOP_ADMIN_* in create_staff's own environment; the demo catalog only with SHOP_DEMO_DATA (and only into an
    empty catalog); any other entry runs without arguments."""
    seeds = {}
    for service in cfg.services:
        for command in service.seed:
            if command == "create_staff":
                seeds[f"staff account {cfg.admin_email}"] = Seed(service.name, (command,), {
                    "SHOP_ADMIN_EMAIL": cfg.admin_email, "SHOP_ADMIN_PASSWORD": cfg.admin_password,
                    "SHOP_ADMIN_NAME": cfg.admin_name})
            elif command == "seed_demo_catalog":
                if cfg.demo_data:
                    seeds["demo catalog (only into an empty catalog)"] = Seed(service.name, (command,))
            else:
                seeds[f"{service.name}: {command}"] = Seed(service.name, (command,))
    return seeds


def seed_note(output: str) -> str:
    """The line of a seed's output the terminal shows: its last one, marked as a warning when create_staff
    refused to make the address staff (a customer registered it first)."""
    lines = output.strip().splitlines()
    if not lines:
        return ""
    return f"! WARNING: {lines[-1]}" if lines[-1].startswith(NOT_STAFF) else lines[-1]


def refuse_default_staff_password(cfg: Config) -> None:
    """Bound beyond loopback, refuse to start while the staff account still accepts the development default,
    whatever SHOP_ADMIN_PASSWORD says now: create_staff never changes an existing account's password, so an
    account seeded admin/admin by an earlier loopback run keeps it. The candidate goes on stdin."""
    identity = next((s for s in cfg.services if "create_staff" in s.seed), None)
    if not cfg.exposed or identity is None:
        return
    result = subprocess.run([str(VENV / "bin" / "python"), "manage.py", "password_accepted", "--email",
                             cfg.admin_email], input=DEFAULT_ADMIN_PASSWORD + "\n", env=cfg.service_env(identity.name),
                            cwd=REPO / "services" / identity.name, text=True, capture_output=True)
    if result.returncode == 0:
        raise SetupError(f"the staff account {cfg.admin_email} still accepts the default password "
                         f"{DEFAULT_ADMIN_PASSWORD!r} and SHOP_BIND_ADDRESS={cfg.bind_address} reaches beyond this "
                         f"machine: change its password (\"Forgot password?\" on the sign-in page) "
                         f"or bind to 127.0.0.1")
    if result.returncode != 3:  # password_accepted's "not accepted"; anything else is a failure to check
        raise SetupError(f"{identity.name}: manage.py password_accepted failed (exit {result.returncode})\n"
                         f"{result.stdout}{result.stderr}".strip())


def prepare_databases(cfg: Config, progress: Progress) -> None:
    """Migrate every service's database and then run that service's seeds, the services side by side: a service's
    seeds start as soon as its own migrations are done, not when the slowest service's are."""
    if not cfg.services:
        progress.note("no services found under services/*/manage.py: only the gateway will run")
        return
    seeds = seed_commands(cfg)

    def prepare(service: str) -> list[str]:
        manage(cfg, service, "migrate", "--noinput")
        return [seed_note(manage(cfg, seed.service, *seed.args, env=seed.env).stdout)
                for seed in seeds.values() if seed.service == service]

    what = f"Migrating the databases of {', '.join(s.name for s in cfg.services)}"
    with progress.step(what + (f", then seeding: {'; '.join(seeds)}" if seeds else "")):
        with ThreadPoolExecutor(max_workers=len(cfg.services)) as pool:
            for future in [pool.submit(prepare, s.name) for s in cfg.services]:
                for note in future.result():
                    if note:
                        progress.note(note)
    refuse_default_staff_password(cfg)


def declare_topology(cfg: Config, progress: Progress) -> None:
    """Bind every consumer's queue before any relay publishes: an event with no bound queue would be dropped."""
    consumers = [s for s in cfg.services if s.consumes]
    if not consumers:
        return
    with progress.step(f"Declaring the queues of {', '.join(s.name for s in consumers)}"):
        with ThreadPoolExecutor(max_workers=len(consumers)) as pool:
            for future in [pool.submit(manage, cfg, s.name, "declare_topology") for s in consumers]:
                future.result()
