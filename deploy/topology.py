"""The shop's topology (deploy/topology.toml) as typed, checked objects: the one source for every way to run it.

Standard library only: `make up` reads it before the virtualenv exists.

    from topology import load
    shop = load()
    for service in shop.services:
        for process in service.processes:
            print(process.name, process.kind.command, process.replicas)
"""
from __future__ import annotations

import base64
import hashlib
import random
import re
import secrets
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

TOPOLOGY_FILE = Path(__file__).with_name("topology.toml")
LOCAL_PORT_BASE = 8000  # the ports in the file are base + offset; `make up` moves the base with SHOP_PORT_BASE
NEEDS = ("database", "broker", "smtp")
DATABASE_KINDS = ("postgres", "mariadb")
EVENTS_EXCHANGE = "shop.events"  # the one topic exchange (shopkit.messaging.config.EXCHANGE); routing key = type
# A private shop (tests, benches) moves the ports that have their own settings next to its base too: setting → offset
PRIVATE_SHOP_PORT_OFFSETS = {"SHOP_SMTP_PORT": 25, "SHOP_MAILBOX_PORT": 26, "SHOP_HTTPS_PORT": 43,
                             "SHOP_HTTP_PORT": 80}


class TopologyError(ValueError):
    """deploy/topology.toml says something inconsistent; the message names the entry."""


@dataclass(frozen=True)
class Kind:
    """A kind of process (web, consumer, relay, sender): what it runs and how it is stopped. A worker kind's name
    is also the name of its loop in `manage.py run_worker` (shopkit.messaging.worker)."""

    name: str
    command: tuple[str, ...]
    health_port: int | None
    stop_signal: str
    stop_grace_seconds: int
    needs: tuple[str, ...]
    scalable: bool

    def argv(self, port: int | None = None) -> list[str]:
        """The command with ``{port}`` filled in."""
        return [part.replace("{port}", str(port)) if port is not None else part for part in self.command]


@dataclass(frozen=True)
class Process:
    """One kind of process of one service, e.g. ``order-consumer``."""

    service: "Service" = field(repr=False, compare=False)  # the owner (a back-reference: not compared)
    kind: Kind = field()
    replicas: int = 1

    @property
    def name(self) -> str:
        return f"{self.service.name}-{self.kind.name}"

    @property
    def port(self) -> int | None:
        """The port it listens on in a container: the service port for web, the health port for workers."""
        return self.service.port if self.kind.name == "web" else self.kind.health_port


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    database: str
    local_web_instances: int
    seed: tuple[str, ...]
    upstream_keepalive: int
    publishes: tuple[str, ...] = ()  # the aggregates it owns: it alone publishes `<aggregate>.*`
    processes: tuple[Process, ...] = ()
    local_web_workers: int | None = None  # gunicorn workers per master under `make up`; None: gunicorn_conf's default

    @property
    def offset(self) -> int:
        return self.port - LOCAL_PORT_BASE

    @property
    def consumes(self) -> bool:
        return any(p.kind.name == "consumer" for p in self.processes)

    @property
    def worker_kinds(self) -> tuple[Kind, ...]:
        """Its process kinds besides web, in declared order: the loops of its worker under `make up`."""
        return tuple(p.kind for p in self.processes if p.kind.name != "web")

    def process(self, kind: str) -> Process | None:
        return next((p for p in self.processes if p.kind.name == kind), None)

    def broker_permissions(self) -> dict[str, str]:
        """Its RabbitMQ permissions in its vhost (regexes over exchange and queue names), least privilege; the one
        definition used by `make up`, compose and the Kubernetes Permission resources.

        Every service declares and publishes to the topic exchange ``shop.events``; a consuming one also declares,
        binds (write on its queue, read on the exchange) and reads its own queues ``<svc>.events``,
        ``<svc>.events.retry.N`` and ``<svc>.events.dead`` (shopkit.messaging.consumer). Retries and parking
        publish through the default exchange, which RabbitMQ checks as ``amq.default`` (it can limit that only by
        exchange name: the queue a message lands in is its routing key); declaring a retry queue whose
        dead-letter exchange is the default one checks the same.
        """
        exchange = re.escape(EVENTS_EXCHANGE)
        if not self.consumes:
            return {"configure": f"^{exchange}$", "write": f"^{exchange}$", "read": "^$"}
        own = rf"{re.escape(self.name)}\.events(\.retry\.[0-9]+|\.dead)?"
        return {"configure": f"^({exchange}|{own})$", "write": rf"^({exchange}|amq\.default|{own})$",
                "read": f"^({exchange}|{own})$"}

    def broker_topic_permissions(self) -> dict[str, str]:
        """Its topic permissions on ``shop.events`` (regexes over routing keys = event types): it may publish only
        the events of the aggregates it owns; a consumer may bind to any event type (events are broadcast)."""
        owned = "|".join(re.escape(a) for a in self.publishes)
        return {"exchange": EVENTS_EXCHANGE, "write": rf"^({owned})\." if owned else "^$",
                "read": ".*" if self.consumes else "^$"}

    def local_web_ports(self, port_base: int = LOCAL_PORT_BASE) -> list[int]:
        """The ports of the gunicorn masters `make up` runs for this service."""
        return [port_base + self.offset + 10 * i for i in range(self.local_web_instances)]


@dataclass(frozen=True)
class LocalWorker:
    """`make up`'s one worker process of a service ([local_worker]): its worker kinds' loops run together."""

    service: Service
    command: tuple[str, ...]  # with "{loops}" standing for the kinds' names
    port_offset: int

    @property
    def name(self) -> str:
        return f"{self.service.name}-worker"

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return self.service.worker_kinds

    @property
    def stop_signal(self) -> str:
        return self.kinds[0].stop_signal

    @property
    def stop_grace_seconds(self) -> int:
        """The longest grace of its kinds: each loop finishes what it holds, all at once."""
        return max(k.stop_grace_seconds for k in self.kinds)

    def port(self, port_base: int = LOCAL_PORT_BASE) -> int:
        """Its health and metrics port: base + the declared offset + the service's offset."""
        return port_base + self.port_offset + self.service.offset

    def argv(self) -> list[str]:
        """The command, "{loops}" replaced by the names of its kinds (one argument each)."""
        argv = []
        for part in self.command:
            argv += [k.name for k in self.kinds] if part == "{loops}" else [part]
        return argv


@dataclass(frozen=True)
class Topology:
    kinds: dict[str, Kind]
    services: tuple[Service, ...]
    gateway: dict
    broker: dict
    mailbox: dict
    databases: dict[str, dict]
    monitoring: dict = field(default_factory=dict)
    local_worker_spec: dict = field(default_factory=dict)  # [local_worker]: see local_worker()

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    @property
    def processes(self) -> list[Process]:
        return [p for s in self.services for p in s.processes]

    def local_worker(self, service: Service) -> LocalWorker | None:
        """The one worker process `make up` runs for ``service``, or None when it runs only web processes."""
        if not service.worker_kinds:
            return None
        return LocalWorker(service=service, command=tuple(self.local_worker_spec["command"]),
                           port_offset=int(self.local_worker_spec["local_port_offset"]))

    def local_port_offsets(self) -> list[int]:
        """Every port offset from SHOP_PORT_BASE that `make up` listens on for the shop's processes and monitoring
        (the gateway's, the sink's and the mailbox's come from their own settings)."""
        found = [port - LOCAL_PORT_BASE for s in self.services for port in s.local_web_ports()]
        found += [worker.port() - LOCAL_PORT_BASE for worker in map(self.local_worker, self.services) if worker]
        found += [self.monitoring[k] for k in ("local_prometheus_offset", "local_nginx_status_offset",
                                               "local_nginx_exporter_offset") if k in self.monitoring]
        return found

    def private_shop_ports_free(self, base: int) -> bool:
        """Whether every port a private shop on ``base`` takes is free on 127.0.0.1 now: those of
        `local_port_offsets()` and of PRIVATE_SHOP_PORT_OFFSETS (see `private_shop_ports`)."""
        offsets = (*self.local_port_offsets(), *PRIVATE_SHOP_PORT_OFFSETS.values())
        return all(port_free(base + offset) for offset in offsets)

    def free_port_base(self, low: int = 20000, high: int = 60000, tries: int = 200) -> int:
        """A SHOP_PORT_BASE for a private shop (tests, benches) whose every port is free now; raises RuntimeError
        when ``tries`` random bases all collide."""
        for _ in range(tries):
            base = random.randrange(low, high, 100)
            if self.private_shop_ports_free(base):
                return base
        raise RuntimeError(f"no base in {low}..{high} with every port of a private shop free")


def private_shop_ports(base: int) -> dict[str, str]:
    """The port settings of a private shop on ``base`` (from `Topology.free_port_base`), as environment variables."""
    return {"SHOP_PORT_BASE": str(base), **{name: str(base + offset)
                                            for name, offset in PRIVATE_SHOP_PORT_OFFSETS.items()}}


def port_free(port: int) -> bool:
    """Whether nothing listens on (or holds) ``port`` of 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def broker_definitions(shop: Topology, vhost: str, accounts: dict[str, tuple[str, str]]) -> dict:
    """The services' broker users with their least privileges in ``vhost``, as a RabbitMQ definitions document
    (`rabbitmqctl import_definitions`, or POST /api/definitions): ``accounts`` maps service → (user, password);
    only salted password hashes go into the document. `make up` and compose import it; Kubernetes has the
    same permissions as Permission and TopicPermission resources."""
    users, permissions, topic_permissions = [], [], []
    for service in shop.services:
        user, password = accounts[service.name]
        users.append({"name": user, "password_hash": _password_hash(password),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        permissions.append({"user": user, "vhost": vhost, **service.broker_permissions()})
        topic_permissions.append({"user": user, "vhost": vhost, **service.broker_topic_permissions()})
    return {"users": users, "permissions": permissions, "topic_permissions": topic_permissions}


def _password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), with a 4-byte salt."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def load(path: Path = TOPOLOGY_FILE) -> Topology:
    """Read and check the declaration; raises TopologyError naming the first inconsistency."""
    with path.open("rb") as f:
        raw = tomllib.load(f)
    kinds = {name: _kind(name, entry) for name, entry in raw.get("kinds", {}).items()}
    if "web" not in kinds:
        raise TopologyError("kinds: a 'web' kind is required")
    services = tuple(_service(name, entry, kinds) for name, entry in raw.get("services", {}).items())
    ports = [s.port for s in services]
    if len(set(ports)) != len(ports):
        raise TopologyError(f"services: two services share a port ({ports})")
    owners = [a for s in services for a in s.publishes]
    if len(set(owners)) != len(owners):
        raise TopologyError(f"services: an aggregate is published by two services ({owners})")
    databases = dict(raw.get("databases", {}))
    for service in services:
        if service.database not in databases:
            raise TopologyError(f"services.{service.name}: database {service.database!r} is not under [databases]")
    ops_status = raw["gateway"].get("ops_status_service")
    if ops_status not in {s.name for s in services}:
        raise TopologyError(f"gateway.ops_status_service: {ops_status!r} is not a service")
    local_worker = dict(raw.get("local_worker", {}))
    if any(s.worker_kinds for s in services):
        if "{loops}" not in local_worker.get("command", ()) or local_worker.get("local_port_offset") is None:
            raise TopologyError("local_worker: a command with \"{loops}\" and a local_port_offset are required")
        signals = {k.stop_signal for s in services for k in s.worker_kinds}
        if len(signals) > 1:
            raise TopologyError(f"kinds: the worker kinds run in one process under `make up`, so they must stop on "
                                f"one signal, not {sorted(signals)}")
    topology = Topology(kinds=kinds, services=services, gateway=dict(raw["gateway"]), broker=dict(raw["broker"]),
                        mailbox=dict(raw["mailbox"]), databases=databases, monitoring=dict(raw.get("monitoring", {})),
                        local_worker_spec=local_worker)
    offsets = topology.local_port_offsets()
    if len(set(offsets)) != len(offsets):
        raise TopologyError(f"two processes would share a local port (offsets from SHOP_PORT_BASE: {sorted(offsets)})")
    return topology


def _kind(name: str, entry: dict) -> Kind:
    if name != "web" and not entry.get("health_port"):
        raise TopologyError(f"kinds.{name}: a worker kind needs a health_port for containers")
    needs = tuple(entry.get("needs", ()))
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise TopologyError(f"kinds.{name}: unknown needs {sorted(unknown)} (known: {NEEDS})")
    return Kind(name=name, command=tuple(entry["command"]), health_port=entry.get("health_port"),
                stop_signal=entry.get("stop_signal", "TERM"),
                stop_grace_seconds=int(entry.get("stop_grace_seconds", 10)), needs=needs,
                scalable=bool(entry.get("scalable", False)))


def _service(name: str, entry: dict, kinds: dict[str, Kind]) -> Service:
    if entry.get("database") not in DATABASE_KINDS:
        raise TopologyError(f"services.{name}: database must be one of {DATABASE_KINDS}")
    service = Service(name=name, port=int(entry["port"]), database=entry["database"],
                      local_web_instances=int(entry.get("local_web_instances", 1)),
                      seed=tuple(entry.get("seed", ())), upstream_keepalive=int(entry.get("upstream_keepalive", 16)),
                      publishes=tuple(entry.get("publishes", ())),
                      local_web_workers=int(entry["local_web_workers"]) if "local_web_workers" in entry else None)
    if service.local_web_workers is not None and service.local_web_workers < 1:
        raise TopologyError(f"services.{name}: local_web_workers must be at least 1")
    replicas = entry.get("replicas", {})
    processes = []
    for kind_name in entry.get("processes", ()):
        if kind_name not in kinds:
            raise TopologyError(f"services.{name}: unknown process kind {kind_name!r}")
        count = int(replicas.get(kind_name, 1))
        if count < 1:
            raise TopologyError(f"services.{name}: replicas of {kind_name} must be at least 1")
        processes.append(Process(service=service, kind=kinds[kind_name], replicas=count))
    unknown = set(replicas) - set(entry.get("processes", ()))
    if unknown:
        raise TopologyError(f"services.{name}: replicas for processes it does not run: {sorted(unknown)}")
    if "web" not in entry.get("processes", ()):
        raise TopologyError(f"services.{name}: every service runs a web process")
    object.__setattr__(service, "processes", tuple(processes))
    return service
