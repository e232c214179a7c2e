"""Each service's database made ready before its processes start: migrate, seed (the topology's `seed` list),
and the queues of every consuming service declared."""
from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

from .commands import run
from .config import REPO, VENV, Config
from .progress import Progress


def manage(cfg: Config, service: str, *args: str) -> subprocess.CompletedProcess:
    return run([str(VENV / "bin" / "python"), "manage.py", *args], env=cfg.service_env(),
               cwd=REPO / "services" / service, what=f"{service}: manage.py {' '.join(args[:1])}")


def seed_commands(cfg: Config) -> dict[str, tuple[str, ...]]:
    """What each service's `seed` entries run under `make up`: label → (service, command, args…). The staff
    account comes from SHOP_ADMIN_*; the demo catalog only with SHOP_DEMO_DATA (and only into an empty catalog);
    any other entry runs without arguments."""
    seeds = {}
    for service in cfg.services:
        for command in service.seed:
            if command == "create_staff":
                seeds[f"staff account {cfg.admin_email}"] = (
                    service.name, command, "--email", cfg.admin_email, "--password", cfg.admin_password,
                    "--name", cfg.admin_name)
            elif command == "seed_demo_catalog":
                if cfg.demo_data:
                    seeds["demo catalog (only into an empty catalog)"] = (service.name, command)
            else:
                seeds[f"{service.name}: {command}"] = (service.name, command)
    return seeds


def prepare_databases(cfg: Config, progress: Progress) -> None:
    if not cfg.services:
        progress.note("no services found under services/*/manage.py: only the gateway will run")
        return
    with progress.step(f"Migrating the databases of {', '.join(s.name for s in cfg.services)}"):
        with ThreadPoolExecutor(max_workers=len(cfg.services)) as pool:
            for future in [pool.submit(manage, cfg, s.name, "migrate", "--noinput") for s in cfg.services]:
                future.result()
    seeds = seed_commands(cfg)
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
