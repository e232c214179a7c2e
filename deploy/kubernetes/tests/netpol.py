"""A small evaluator of Kubernetes NetworkPolicies, enough for the shapes our manifests use (tests only).

A connection from one pod to another's port is allowed when the source's egress and the destination's ingress
both allow it (every pod here is selected by the default-deny policy, so isolated in both directions).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict = field(hash=False)
    namespace: str = ""  # "" = the overlay's namespace
    external: bool = False  # an address outside the cluster (e.g. a mail server)


def _selects(selector: dict, labels: dict) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
    return True


def _peer_matches(peer: dict, pod: Pod, home: str) -> bool:
    if "ipBlock" in peer:
        return pod.external
    if pod.external:
        return False
    namespace = pod.namespace or home
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace}):
            return False
    elif namespace != home:
        return False
    return _selects(peer.get("podSelector", {}), pod.labels)


def _port_matches(ports: list[dict] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        if "port" not in entry:
            return True
        if isinstance(entry["port"], int) and entry["port"] <= port <= entry.get("endPort", entry["port"]):
            return True
    return False


def _allowed(policies: list[dict], subject: Pod, other: Pod, port: int, protocol: str, direction: str,
             home: str) -> bool:
    if subject.external or subject.namespace not in ("", home):
        return True  # not ours: nothing here restricts it
    field_, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [p for p in policies if _selects(p["spec"]["podSelector"], subject.labels)
                 and direction in p["spec"].get("policyTypes", ["Ingress"])]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(field_, []) or []:
            peers = rule.get(peers_key)
            if peers and not any(_peer_matches(peer, other, home) for peer in peers):
                continue
            if _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def allowed(policies: list[dict], source: Pod, destination: Pod, port: int, protocol: str = "TCP",
            home: str = "") -> bool:
    """Whether ``source`` may open a connection to ``destination`` on ``port``."""
    return (_allowed(policies, source, destination, port, protocol, "Egress", home)
            and _allowed(policies, destination, source, port, protocol, "Ingress", home))
