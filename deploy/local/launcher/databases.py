"""Each service made ready before its processes start, in one `manage.py prepare_service` (one Django start-up)
per service: migrate, seed (the topology's `seed` list), and for a consuming service its queues declared."""
from __future__ import annotations

import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
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


def prepare_databases(cfg: Config, progress: Progress, broker: Future | None = None) -> None:
    """Every service side by side, each in one process (shopkit's `prepare_service`): migrate, its seeds, and for
    a consuming service its queues and bindings, as that service's own broker user — declared before any relay
    publishes (an event published with no bound queue would be dropped). A consuming service starts once
    ``broker`` (the broker's preparation: its users) is done; the others do not wait for it."""
    if not cfg.services:
        progress.note("no services found under services/*/manage.py: only the gateway will run")
        return
    seeds = seed_commands(cfg)

    def prepare(service) -> list[str]:
        own = [seed for seed in seeds.values() if seed.service == service.name]
        args = [arg for seed in own for arg in ("--seed", seed.args[0])]
        if service.consumes:
            args.append("--declare-topology")
            if broker is not None:
                broker.result()  # its users must exist: raises what the broker's preparation raised
        env = {name: value for seed in own for name, value in seed.env.items()}
        done = manage(cfg, service.name, "prepare_service", *args, env=env)
        return [seed_note(line) for line in done.stdout.splitlines()]

    consumers = [s.name for s in cfg.services if s.consumes]
    what = f"Migrating the databases of {', '.join(s.name for s in cfg.services)}"
    what += f", seeding: {'; '.join(seeds)}" if seeds else ""
    what += f", declaring the queues of {', '.join(consumers)}" if consumers else ""
    with progress.step(what):
        with ThreadPoolExecutor(max_workers=len(cfg.services)) as pool:
            for future in [pool.submit(prepare, s) for s in cfg.services]:
                for note in future.result():
                    if note:
                        progress.note(note)
    refuse_default_staff_password(cfg)
