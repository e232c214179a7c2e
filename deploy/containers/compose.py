"""Renders compose.yaml (the whole shop in containers) from deploy/topology.toml; deploy/generate.py writes it.

Standard library only: the YAML is written here, in a fixed order, so the same topology gives the same bytes.
What each container runs follows the image conventions of deploy/containers/README.md.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local"))  # the launcher: one Prometheus config

from launcher.monitoring import RULES, scrape_config  # noqa: E402

PYTHON_IMAGE = "shop-python:${SHOP_IMAGE_TAG:-dev}"
GATEWAY_IMAGE = "shop-gateway:${SHOP_IMAGE_TAG:-dev}"
# The official images (DESIGN §7); their major versions are pinned, the minor ones follow upstream.
POSTGRES_IMAGE = "postgres:16"
MARIADB_IMAGE = "mariadb:11"
RABBITMQ_IMAGE = "rabbitmq:3-management"  # enables rabbitmq_prometheus (15692) by itself
PROMETHEUS_IMAGE = "prom/prometheus:v2"
NGINX_EXPORTER_IMAGE = "nginx/nginx-prometheus-exporter:1"
GRAFANA_IMAGE = "grafana/grafana:11"
PROMETHEUS_CONFIG = "deploy/containers/prometheus.yml"  # generated with compose.yaml, mounted read-only
GRAFANA_PROVISIONING = "deploy/grafana/provisioning"
BIND = "${SHOP_BIND_ADDRESS:-127.0.0.1}"
DATA = "/var/lib/shop"  # SHOP_DATA_DIR in the Python image
ENV_HINT = "run make compose-env to write .env first"

HEADER = """\
# The whole shop in containers. GENERATED from deploy/topology.toml by `python3 deploy/generate.py`
# (deploy/containers/compose.py): edit those, not this file; `make test` fails when it is stale.
#
#   make compose-env                  # once: writes .env (passwords, secret keys; never committed)
#   deploy/containers/build.sh        # builds shop-python:dev and shop-gateway:dev
#   docker compose up -d              # or: podman compose up -d
#   docker compose up -d --scale product-web=3
#
# The gateway is published on ${SHOP_BIND_ADDRESS:-127.0.0.1}:80 and :443 (SHOP_HTTP_PORT, SHOP_HTTPS_PORT),
# RabbitMQ's management UI on :15672, the development mailbox on :8025 and Prometheus on :9090;
# `docker compose --profile monitoring up -d` adds Grafana on :3000. See README.md and
# deploy/containers/README.md.
"""


def render(topology) -> dict[str, str]:
    return {"compose.yaml": HEADER + "\n" + to_yaml(document(topology)) + "\n",
            PROMETHEUS_CONFIG: PROMETHEUS_HEADER + prometheus_config(topology)}


def secret_names(topology) -> list[str]:
    """Every secret compose.yaml reads from the environment (.env): compose_env.py generates them."""
    names = []
    for service in topology.services:
        names += [f"{service.name.upper()}_DB_PASSWORD", f"{service.name.upper()}_SECRET_KEY"]
    if any(s.database == "mariadb" for s in topology.services):
        names.append("MARIADB_ROOT_PASSWORD")
    return [*names, "RABBITMQ_PASSWORD", "SHOP_ADMIN_PASSWORD", *monitoring_secret_names()]


# --- the document ------------------------------------------------------------------------------------------
def secret(name: str) -> str:
    return "${" + name + ":?" + ENV_HINT + "}"


def database_host(service) -> str:
    return f"{service.name}-db"


def database_url(service, topology) -> str:
    port = topology.databases[service.database]["port"]
    scheme = "postgres" if service.database == "postgres" else "mysql"
    password = secret(f"{service.name.upper()}_DB_PASSWORD")
    return f"{scheme}://{service.name}:{password}@{database_host(service)}:{port}/{service.name}"


def broker_url(topology) -> str:
    return f"amqp://shop:${{RABBITMQ_PASSWORD}}@broker:{topology.broker['amqp_port']}/%2F"


def python_environment(service, topology) -> dict:
    identity = topology.service("identity") if any(s.name == "identity" for s in topology.services) else service
    env = {
        f"{service.name.upper()}_DATABASE_URL": database_url(service, topology),
        f"{service.name.upper()}_SECRET_KEY": secret(f"{service.name.upper()}_SECRET_KEY"),
        "RABBITMQ_URL": broker_url(topology),
        "SHOP_JWKS_URL": f"http://identity-web:{identity.port}/api/v1/auth/jwks.json",
        # every service's web address: the shop-wide ops status asks each one there (shopkit.ops)
        "SHOP_SERVICE_URLS": ",".join(f"{s.name}=http://{s.name}-web:{s.port}" for s in topology.services),
        "SHOP_PUBLIC_URL": "${SHOP_PUBLIC_URL:-http://localhost}",
        "SHOP_LOG_LEVEL": "${SHOP_LOG_LEVEL:-INFO}",
    }
    if any("smtp" in p.kind.needs for p in service.processes):
        env["EMAIL_HOST"] = "${EMAIL_HOST:-mailbox}"
        env["EMAIL_PORT"] = "${EMAIL_PORT:-" + str(topology.mailbox["smtp_port"]) + "}"
    if service.seed:
        env.update(seed_environment(service))
    return env


def seed_environment(service) -> dict:
    """What the one-shot seed commands read (create_staff: the staff account; seed_demo_catalog: the switch)."""
    env = {}
    if "create_staff" in service.seed:
        env["SHOP_ADMIN_EMAIL"] = "${SHOP_ADMIN_EMAIL:-admin@example.com}"
        env["SHOP_ADMIN_PASSWORD"] = secret("SHOP_ADMIN_PASSWORD")
    if "seed_demo_catalog" in service.seed:
        env["SHOP_DEMO_DATA"] = "${SHOP_DEMO_DATA:-1}"
    return env


def healthcheck(test: list[str], *, interval: int = 5, timeout: int = 5, retries: int = 5,
                start_period: int = 60) -> dict:
    return {"test": test, "interval": f"{interval}s", "timeout": f"{timeout}s", "retries": retries,
            "start_period": f"{start_period}s"}


def done(name: str) -> tuple[str, dict]:
    return name, {"condition": "service_completed_successfully"}


def healthy(name: str) -> tuple[str, dict]:
    return name, {"condition": "service_healthy"}


def infrastructure(topology) -> dict:
    services = {}
    for service in topology.services:
        name = database_host(service)
        if service.database == "postgres":
            services[name] = {
                "image": POSTGRES_IMAGE,
                "environment": {"POSTGRES_DB": service.name, "POSTGRES_USER": service.name,
                                "POSTGRES_PASSWORD": secret(f"{service.name.upper()}_DB_PASSWORD")},
                "volumes": [f"{name}:/var/lib/postgresql/data"],
                "healthcheck": healthcheck(["CMD", "pg_isready", "-U", service.name, "-d", service.name,
                                            "-h", "127.0.0.1"]),
                "stop_grace_period": "30s",
                "restart": "unless-stopped",
            }
        else:
            services[name] = {
                "image": MARIADB_IMAGE,
                "environment": {"MARIADB_DATABASE": service.name, "MARIADB_USER": service.name,
                                "MARIADB_PASSWORD": secret(f"{service.name.upper()}_DB_PASSWORD"),
                                "MARIADB_ROOT_PASSWORD": secret("MARIADB_ROOT_PASSWORD")},
                "volumes": [f"{name}:/var/lib/mysql"],
                # the official image's own check: the server accepts connections and InnoDB is up
                "healthcheck": healthcheck(["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"]),
                "stop_grace_period": "30s",
                "restart": "unless-stopped",
            }
    broker = topology.broker
    services["broker"] = {
        "image": RABBITMQ_IMAGE,
        "hostname": "broker",  # the node's name, and with it its data folder, must survive a re-creation
        "environment": {"RABBITMQ_DEFAULT_USER": "shop", "RABBITMQ_DEFAULT_PASS": secret("RABBITMQ_PASSWORD")},
        "ports": [f"{BIND}:${{SHOP_RABBITMQ_UI_PORT:-{broker['management_port']}}}:{broker['management_port']}"],
        "volumes": ["broker:/var/lib/rabbitmq"],
        "healthcheck": healthcheck(["CMD", "rabbitmq-diagnostics", "-q", "check_port_connectivity"],
                                   interval=10, timeout=10, retries=10),
        "stop_grace_period": "30s",
        "restart": "unless-stopped",
    }
    mailbox = topology.mailbox
    services["mailbox"] = {
        "image": PYTHON_IMAGE,
        "command": ["email", "manage", "smtp_sink", "--host", "0.0.0.0", "--port", str(mailbox["smtp_port"]),
                    "--http-port", str(mailbox["http_port"]), "--maildir", f"{DATA}/mail"],
        # a development tool: it needs no secret key of its own
        "environment": {"SHOP_ENV": "development", "SHOP_HEALTH_PORT": str(mailbox["http_port"])},
        "ports": [f"{BIND}:${{SHOP_MAILBOX_PORT:-{mailbox['http_port']}}}:{mailbox['http_port']}"],
        "volumes": [f"mailbox:{DATA}"],
        "healthcheck": healthcheck(["CMD", "shop", "probe", "/messages"]),
        "restart": "unless-stopped",
    }
    return services


def one_shot(command: list[str], environment: dict, depends_on: list[tuple[str, dict]], **extra) -> dict:
    return {"image": PYTHON_IMAGE, "command": command, "environment": environment,
            "depends_on": dict(depends_on), "restart": "no", **extra}


def jobs(topology) -> dict:
    services = {}
    for service in topology.services:
        env = python_environment(service, topology)
        database = healthy(database_host(service))
        services[f"{service.name}-migrate"] = one_shot([service.name, "manage", "migrate", "--noinput"], env,
                                                       [database])
        if service.seed:
            services[f"{service.name}-seed"] = one_shot([service.name, "seed"], env,
                                                        [database, done(f"{service.name}-migrate")])
        if service.consumes:
            # its queues and bindings exist before any relay publishes: an event with no bound queue is dropped
            services[f"{service.name}-declare"] = one_shot([service.name, "manage", "declare_topology"], env,
                                                           [healthy("broker")])
    return services


def processes(topology) -> dict:
    services = {}
    declares = [done(f"{s.name}-declare") for s in topology.services if s.consumes]
    for service in topology.services:
        env = python_environment(service, topology)
        prepared = [healthy(database_host(service)), done(f"{service.name}-migrate")]
        if service.seed:
            prepared.append(done(f"{service.name}-seed"))
        for process in service.processes:
            kind = process.kind
            depends = list(prepared)
            if "broker" in kind.needs:
                depends.append(healthy("broker"))
            if "smtp" in kind.needs:
                depends.append(healthy("mailbox"))
            if kind.name == "consumer":
                depends.append(done(f"{service.name}-declare"))
            if kind.name == "relay":
                depends.extend(declares)
            entry = {
                "image": PYTHON_IMAGE,
                "command": [service.name, kind.name],
                "environment": env,
                "depends_on": dict(depends),
                "expose": [str(process.port)],
                "healthcheck": healthcheck(["CMD", "shop", "probe"]),
                "stop_signal": f"SIG{kind.stop_signal}",
                "stop_grace_period": f"{kind.stop_grace_seconds}s",
                "restart": "unless-stopped",
            }
            if service.name == "identity" and kind.name == "web":
                entry["volumes"] = [f"identity-keys:{DATA}"]  # the signing keys, shared by every replica
            if process.replicas > 1:
                entry["deploy"] = {"replicas": process.replicas}
            services[process.name] = entry
    return services


def gateway(topology) -> dict:
    gw = topology.gateway
    webs = [healthy(f"{s.name}-web") for s in topology.services]
    return {"gateway": {
        "image": GATEWAY_IMAGE,
        "environment": {"SHOP_PUBLIC_URL": "${SHOP_PUBLIC_URL:-http://localhost}",
                        **{f"SHOP_{s.name.upper()}_UPSTREAM": f"{s.name}-web:{s.port}" for s in topology.services},
                        **gateway_status_environment(topology)},
        "ports": [f"{BIND}:${{SHOP_HTTP_PORT:-{gw['published_http_port']}}}:{gw['http_port']}",
                  f"{BIND}:${{SHOP_HTTPS_PORT:-{gw['published_https_port']}}}:{gw['https_port']}"],
        "depends_on": dict(webs),
        "healthcheck": healthcheck(["CMD", "shop-gateway", "probe"]),
        "stop_signal": "SIGQUIT",
        "stop_grace_period": "15s",
        "restart": "unless-stopped",
    }}


def document(topology) -> dict:
    services = {**infrastructure(topology), **jobs(topology), **processes(topology), **gateway(topology),
                **monitoring(topology)}
    volumes = [database_host(s) for s in topology.services] + ["broker", "mailbox", "identity-keys"] \
        + MONITORING_VOLUMES
    return {"services": services, "volumes": {name: None for name in volumes}}


# --- monitoring: Prometheus, the gateway's nginx exporter, Grafana (profile "monitoring") -------------------
PROMETHEUS_HEADER = """\
# Prometheus's config for compose.yaml. GENERATED from deploy/topology.toml by `python3 deploy/generate.py`
# (deploy/containers/compose.py, through deploy/local/launcher/monitoring.py's scrape_config, which renders
# make up's too): edit those, not this file. JSON, which YAML reads.
"""
MONITORING_VOLUMES = ["prometheus", "grafana"]
PROMETHEUS_RULES = "/etc/prometheus/alerts.yml"


def monitoring_secret_names() -> list[str]:
    return ["GRAFANA_ADMIN_PASSWORD"]  # Grafana's user `admin`


def gateway_status_environment(topology) -> dict:
    """nginx's stub_status on the compose network (never published) for the exporter container to read."""
    return {"NGINX_STATUS_LISTEN": f"0.0.0.0:{topology.monitoring['nginx_status_port']}"}


def prometheus_config(topology) -> str:
    """Every process by its container name: by DNS (each replica) for a kind compose scales, else statically."""
    static, dns = [], []
    for service in topology.services:
        for process in service.processes:
            labels = {"service": service.name, "kind": process.kind.name, "process": process.name}
            if process.kind.scalable or process.replicas > 1:
                dns.append({"name": process.name, "port": process.port, "labels": labels})
            else:
                static.append({"targets": [f"{process.name}:{process.port}"], "labels": labels})
    mon = topology.monitoring
    return scrape_config(
        topology, shop_targets=static, shop_dns=dns, rabbitmq=f"broker:{mon['rabbitmq_prometheus_port']}",
        vhost="/", gateway_exporter=f"nginx-exporter:{mon['nginx_exporter_port']}",
        prometheus=f"localhost:{mon['prometheus_port']}", rules=[PROMETHEUS_RULES], interval="15s",
        environment="compose")


def monitoring(topology) -> dict:
    mon = topology.monitoring
    port = mon["prometheus_port"]
    return {
        "nginx-exporter": {
            "image": NGINX_EXPORTER_IMAGE,
            # `--flag` suits both the official image's 1.x and Go-flag versions (Debian's 0.11)
            "command": [f"--nginx.scrape-uri=http://gateway:{mon['nginx_status_port']}/stub_status",
                        f"--web.listen-address=:{mon['nginx_exporter_port']}"],
            "expose": [str(mon["nginx_exporter_port"])],
            "depends_on": dict([healthy("gateway")]),
            "restart": "unless-stopped",  # the image has no shell or HTTP client: Prometheus's `up` watches it
        },
        "prometheus": {
            "image": PROMETHEUS_IMAGE,
            "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                        "--storage.tsdb.retention.time=15d", f"--web.listen-address=:{port}"],
            "ports": [f"{BIND}:${{SHOP_PROMETHEUS_PORT:-{port}}}:{port}"],
            "volumes": [f"./{PROMETHEUS_CONFIG}:/etc/prometheus/prometheus.yml:ro",
                        f"./{RULES.relative_to(RULES.parents[2]).as_posix()}:{PROMETHEUS_RULES}:ro",
                        "prometheus:/prometheus"],
            "healthcheck": healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}/-/ready"],
                                       start_period=30),
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": GRAFANA_IMAGE,
            "profiles": ["monitoring"],  # opt-in: `docker compose --profile monitoring up -d`
            "environment": {"GF_SECURITY_ADMIN_PASSWORD": secret("GRAFANA_ADMIN_PASSWORD"),
                            "GF_USERS_ALLOW_SIGN_UP": "false"},
            "ports": [f"{BIND}:${{SHOP_GRAFANA_PORT:-3000}}:3000"],
            "volumes": [f"./{GRAFANA_PROVISIONING}:/etc/grafana/provisioning:ro",
                        "./deploy/grafana:/etc/grafana/dashboards/shop:ro", "grafana:/var/lib/grafana"],
            "depends_on": dict([healthy("prometheus")]),
            "healthcheck": healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/api/health"],
                                       start_period=30),
            "restart": "unless-stopped",
        },
    }


# --- a small YAML writer: block mappings, flow lists of scalars, double-quoted strings -------------------------
PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def scalar(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value, indent: int = 0) -> str:
    pad = "  " * indent
    lines = []
    for key, item in value.items():
        label = key if PLAIN_KEY.match(key) else json.dumps(key)
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{label}:")
            lines.append(to_yaml(item, indent + 1))
        elif isinstance(item, list):
            lines.append(f"{pad}{label}: [{', '.join(scalar(v) for v in item)}]")
        elif item is None or item == {}:
            lines.append(f"{pad}{label}:" + (" {}" if item == {} else ""))
        else:
            lines.append(f"{pad}{label}: {scalar(item)}")
    return "\n".join(lines)
