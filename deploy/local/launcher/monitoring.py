"""Monitoring under `make up`: Prometheus's config rendered from deploy/topology.toml (every process of the shop,
RabbitMQ's plugin, the gateway's exporter, Prometheus itself) with the alert rules of deploy/prometheus/, the two
programs that run beside the shop (Prometheus, and Debian's nginx exporter reading the gateway's stub_status), and
RabbitMQ's management and Prometheus plugins.

`scrape_config()` renders from values only, with no file written: `make up` gives it loopback targets, compose
(deploy/containers/compose.py) container names, with DNS discovery for the web services it may scale.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import topology

from .config import REPO, Config
from .progress import Progress
from .rabbitmq import port_open

RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_INTERVAL = "5s"  # a local shop: short, so a panel moves while you watch an order go through
PLUGINS = ("rabbitmq_management", "rabbitmq_prometheus")
PROMETHEUS_READY_LOG = "Server is ready to receive web requests."


def scrape_config(shop: topology.Topology, *, shop_targets: list[dict], rabbitmq: str, vhost: str,
                  gateway_exporter: str, prometheus: str, rules: list[str], interval: str = SCRAPE_INTERVAL,
                  shop_dns: list[dict] = (), environment: str = "local") -> str:
    """prometheus.yml (as JSON, which YAML reads): ``shop_targets`` are Prometheus static configs, each labelled
    with its ``service``, ``kind`` and ``process``; ``shop_dns`` (``name``, ``port``, ``labels``) are processes found
    by DNS (type A: every replica of a scaled container), one job each whose targets carry job "shop" and those
    labels, as the static ones do. RabbitMQ's queues of ``vhost`` come from its detailed endpoint (depth, ready,
    consumers per queue), the rest of the broker from its aggregated one."""
    shop_jobs = [{"job_name": "shop", "metrics_path": "/metrics", "static_configs": shop_targets}] if shop_targets \
        else []
    for found in shop_dns:
        labels = {"job": "shop", **found["labels"]}
        shop_jobs.append({
            "job_name": f"shop-{found['labels']['process']}", "metrics_path": "/metrics",
            "dns_sd_configs": [{"names": [found["name"]], "type": "A", "port": found["port"],
                                "refresh_interval": "30s"}],
            "relabel_configs": [{"target_label": key, "replacement": value} for key, value in labels.items()],
        })
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "external_labels": {"shop": environment}},
        "rule_files": rules,
        "scrape_configs": [
            *shop_jobs,
            {"job_name": "rabbitmq", "static_configs": [{"targets": [rabbitmq]}]},
            {"job_name": "rabbitmq-queues", "metrics_path": "/metrics/detailed",
             "params": {"vhost": [vhost], "family": ["queue_coarse_metrics", "queue_consumer_count"]},
             "static_configs": [{"targets": [rabbitmq]}]},
            {"job_name": "gateway", "static_configs": [{"targets": [gateway_exporter], "labels": {"service": "gateway"}}]},
            {"job_name": "prometheus", "static_configs": [{"targets": [prometheus]}]},
        ],
    }
    return json.dumps(config, indent=2) + "\n"


def local_shop_targets(cfg: Config) -> list[dict]:
    """One static config per process `make up` runs: web instances on their ports, each service's one worker (kind
    "worker": its consumer, relay and sender loops) on its health port."""
    targets = []
    for service in cfg.services:
        found = [(f"{service.name}-web-{i}", "web", port) for i, port in enumerate(cfg.web_ports(service), start=1)]
        worker = cfg.shop.local_worker(service)
        if worker is not None:
            found.append((worker.name, "worker", worker.port(cfg.port_base)))
        for name, kind, port in found:
            targets.append({"targets": [f"127.0.0.1:{port}"],
                            "labels": {"service": service.name, "kind": kind, "process": name}})
    return targets


def prometheus_port(cfg: Config) -> int:
    return cfg.port_base + cfg.shop.monitoring["local_prometheus_offset"]


def nginx_status_port(cfg: Config) -> int:
    return cfg.port_base + cfg.shop.monitoring["local_nginx_status_offset"]


def nginx_exporter_port(cfg: Config) -> int:
    return cfg.port_base + cfg.shop.monitoring["local_nginx_exporter_offset"]


def rabbitmq_vhost(cfg: Config) -> str:
    path = urlsplit(cfg.rabbitmq_url).path
    return unquote(path[1:]) if path not in ("", "/") else "/"


def write_prometheus_config(cfg: Config) -> Path:
    host = urlsplit(cfg.rabbitmq_url).hostname or "127.0.0.1"
    path = cfg.run_dir / "prometheus.yml"
    path.write_text(scrape_config(
        cfg.shop, shop_targets=local_shop_targets(cfg),
        rabbitmq=f"{host}:{cfg.shop.monitoring['rabbitmq_prometheus_port']}", vhost=rabbitmq_vhost(cfg),
        gateway_exporter=f"127.0.0.1:{nginx_exporter_port(cfg)}", prometheus=f"127.0.0.1:{prometheus_port(cfg)}",
        rules=[str(RULES)]))
    return path


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)


def nginx_exporter_binary() -> str | None:
    return shutil.which("prometheus-nginx-exporter") or (
        "/usr/bin/prometheus-nginx-exporter" if Path("/usr/bin/prometheus-nginx-exporter").exists() else None)


def prometheus_command(cfg: Config) -> list[str]:
    return [prometheus_binary() or "prometheus", f"--config.file={cfg.run_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={cfg.data_dir / 'prometheus'}", "--storage.tsdb.retention.time=7d",
            f"--web.listen-address=127.0.0.1:{prometheus_port(cfg)}"]


def nginx_exporter_command(cfg: Config) -> list[str]:
    return [nginx_exporter_binary() or "prometheus-nginx-exporter",
            f"-nginx.scrape-uri=http://127.0.0.1:{nginx_status_port(cfg)}/stub_status",
            f"-web.listen-address=127.0.0.1:{nginx_exporter_port(cfg)}", "-nginx.retries=30"]


def enable_rabbitmq_plugins(cfg: Config, progress: Progress) -> None:
    """The management UI (15672) and the Prometheus endpoint (15692), as the seed promises: enabled on a local
    broker that lacks them (enabling is idempotent and needs no restart). A remote broker is left as it is."""
    host = urlsplit(cfg.rabbitmq_url).hostname or "127.0.0.1"
    tool = shutil.which("rabbitmq-plugins") or ("/usr/sbin/rabbitmq-plugins"
                                                 if Path("/usr/sbin/rabbitmq-plugins").exists() else None)
    if host not in ("127.0.0.1", "localhost", "::1") or not tool:
        return
    # both answering means both enabled: no need to start an Erlang VM to ask (about a second of CPU)
    if all(port_open(host, port, timeout=0.5) for port in (cfg.shop.broker["management_port"],
                                               cfg.shop.monitoring["rabbitmq_prometheus_port"])):
        return
    listed = subprocess.run([tool, "-q", "list", "-e", "-m"], text=True, capture_output=True, timeout=60)
    enabled = set(listed.stdout.split()) if listed.returncode == 0 else set()
    missing = [p for p in PLUGINS if p not in enabled]
    if not missing:
        return
    with progress.step(f"Enabling RabbitMQ plugins: {', '.join(missing)}"):
        for attempt in range(3):  # the CLI fails now and then while the node is busy: try again
            done = subprocess.run([tool, "-q", "enable", *missing], text=True, capture_output=True, timeout=120)
            if done.returncode == 0:
                return
            time.sleep(2 * (attempt + 1))
        progress.note(f"warning: rabbitmq-plugins enable failed: {(done.stderr or done.stdout).strip()[-300:]}")
