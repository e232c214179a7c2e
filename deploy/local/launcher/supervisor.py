"""The program table of `make up`, following from deploy/topology.toml, and the supervisord.conf rendered from it.

Each service runs its web kind once per local web instance (SHOP_PORT_BASE + offset, +10 per further instance)
and its worker kinds (consumer, relay, sender) together in one process, <service>-worker (the topology's
[local_worker]), all bound to the loopback. Besides them the SMTP sink (when EMAIL_HOST is unset), the gateway, and
monitoring: Prometheus and the gateway's exporter (monitoring.py). A worker answers /healthz, /readyz and /metrics
on its own loopback port (SHOP_HEALTH_PORT, from the topology). Every program is started through processes.py,
which leaves a pid record in $SHOP_DATA_DIR/run/pids/ (see there).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import topology

from . import monitoring, processes
from .config import LOCAL_DIR, REPO, VENV, Config
from .gateway import nginx_command
from .rabbitmq import service_url
from .render import render

# the order supervisord starts them in (it does not wait for one to be ready before the next): the sink before the
# sender needs it, the gateway after its upstreams
PRIORITY = {"smtp-sink": 50, "worker": 100, "web": 200, "gateway": 400, "nginx-exporter": 450, "prometheus": 450}
LOOPBACK = "127.0.0.1"


@dataclass
class Program:
    name: str
    command: list[str]
    directory: Path
    priority: int
    startsecs: int = 3
    stopsignal: str = "TERM"
    stopwaitsecs: int = 20
    ready_port: int | None = None  # answers GET /readyz when ready (web processes, workers)
    ready_log: str = ""  # or prints this into its log when ready
    group: str = ""  # the supervisor group it belongs to (a service's web instances)
    port: int | None = None  # a port it listens on (checked free before starting), when not ready_port
    environment: dict[str, str] = field(default_factory=dict)  # besides the shop's common environment
    service: str = ""  # the service it is a process of: it gets that service's own broker user


def local_argv(argv: list[str]) -> list[str]:
    """A process's command for `make up`: a wildcard bind narrowed to the loopback (the gateway is the shop's only
    door), and `python`/`gunicorn` taken from the virtualenv."""
    argv = [LOOPBACK + part.removeprefix("0.0.0.0") if part.startswith("0.0.0.0:") else part for part in argv]
    local = VENV / "bin" / argv[0]
    if "/" not in argv[0] and local.exists():
        argv[0] = str(local)
    return argv


def service_programs(cfg: Config, service: topology.Service) -> list[Program]:
    folder = REPO / "services" / service.name
    table = []
    web = service.process("web")
    # the service's own worker count, unless the caller set one for every service
    workers = {"SHOP_WEB_WORKERS": str(service.local_web_workers)} \
        if service.local_web_workers and not os.environ.get("SHOP_WEB_WORKERS") else {}
    for index, port in enumerate(cfg.web_ports(service), start=1):
        table.append(Program(f"{web.name}-{index}", local_argv(web.kind.argv(port)), folder, PRIORITY["web"],
                             startsecs=5, stopsignal=web.kind.stop_signal, stopwaitsecs=web.kind.stop_grace_seconds,
                             ready_port=port, group=web.name, environment=dict(workers), service=service.name))
    worker = cfg.shop.local_worker(service)
    if worker is not None:
        port = worker.port(cfg.port_base)
        table.append(Program(worker.name, local_argv(worker.argv()), folder, PRIORITY["worker"],
                             stopsignal=worker.stop_signal, stopwaitsecs=worker.stop_grace_seconds, ready_port=port,
                             environment={"SHOP_HEALTH_PORT": str(port), "SHOP_HEALTH_HOST": LOOPBACK},
                             service=service.name))
    return table


def programs(cfg: Config) -> list[Program]:
    """Every program of the shop, in the topology's order."""
    python = str(VENV / "bin" / "python")
    table = []
    for service in cfg.services:
        table += service_programs(cfg, service)
    needs_smtp = any("smtp" in p.kind.needs for s in cfg.services for p in s.processes)
    email = REPO / "services" / "email"
    if cfg.uses_local_sink and needs_smtp and (email / "manage.py").exists():
        table.append(Program("smtp-sink", [python, "manage.py", "smtp_sink", "--port", str(cfg.smtp_port),
                                           "--maildir", str(cfg.maildir), "--http-port", str(cfg.mailbox_port)],
                             email, priority=PRIORITY["smtp-sink"]))
    table.append(Program("gateway", nginx_command(cfg), REPO, priority=PRIORITY["gateway"], stopsignal="QUIT",
                         port=monitoring.nginx_status_port(cfg)))
    table.append(Program("nginx-exporter", monitoring.nginx_exporter_command(cfg), REPO,
                         priority=PRIORITY["nginx-exporter"], port=monitoring.nginx_exporter_port(cfg)))
    table.append(Program("prometheus", monitoring.prometheus_command(cfg), REPO, priority=PRIORITY["prometheus"],
                         ready_log=monitoring.PROMETHEUS_READY_LOG, port=monitoring.prometheus_port(cfg)))
    return table


def program_environment(cfg: Config, program: Program) -> str:
    """The environment= entries beyond the name: a service's processes get its own broker user's URL (which is why
    supervisord.conf is readable by its owner alone)."""
    if not program.service:
        return ""
    url = service_url(cfg, program.service).replace("%", "%%")  # percent-encoded: no quote or space in it
    return f',RABBITMQ_URL="{url}"'


def _supervisor_quote(value: str) -> str:
    escaped = value.replace("%", "%%")
    return f'"{escaped}"' if re.search(r"\s", escaped) else escaped


def recorded_command(cfg: Config, program: Program) -> list[str]:
    """The program's command, started through processes.py so that it leaves a pid record."""
    wrapper = Path(processes.__file__).resolve()
    return [str(VENV / "bin" / "python"), str(wrapper), str(cfg.pid_dir / f"{program.name}.pid"), *program.command]


def render_supervisor(cfg: Config, table: list[Program]) -> Path:
    common = {"LOG_DIR": cfg.log_dir, "RUN_DIR": cfg.run_dir, "REPO_DIR": REPO,
              "SUPERVISOR_CONF": cfg.supervisor_conf,
              "INSTANCE_ID": cfg.instance_id}
    text = render((LOCAL_DIR / "supervisord.conf.template").read_text(), common)
    program_template = (LOCAL_DIR / "program.conf.template").read_text()
    groups: dict[str, list[Program]] = {}
    for program in table:
        text += render(program_template, {
            **common, "NAME": program.name,
            "COMMAND": " ".join(_supervisor_quote(p) for p in recorded_command(cfg, program)),
            "DIRECTORY": program.directory, "PRIORITY": program.priority, "STARTSECS": program.startsecs,
            "STOPSIGNAL": program.stopsignal, "STOPWAITSECS": program.stopwaitsecs,
            "ENVIRONMENT": "".join(f',{k}="{v}"' for k, v in program.environment.items())
            + program_environment(cfg, program)})
        if program.group:
            groups.setdefault(program.group, []).append(program)
    # `supervisorctl stop product-web:*` stops every web process of a service at once
    for group, members in groups.items():
        text += (f"\n[group:{group}]\nprograms={','.join(p.name for p in members)}\n"
                 f"priority={members[0].priority}\n")
    cfg.supervisor_conf.touch(mode=0o600)
    cfg.supervisor_conf.chmod(0o600)  # it holds the services' broker passwords
    cfg.supervisor_conf.write_text(text)
    return cfg.supervisor_conf
