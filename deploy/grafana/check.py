"""Reading the Grafana dashboard (deploy/grafana/*.json): its panels' PromQL expressions and the metrics they use.

Standard library only: the dashboard's structural test (`make test-prometheus`) and the e2e test that checks every
panel's metric in a live scrape both use it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

DASHBOARDS = sorted(Path(__file__).parent.glob("*.json"))
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset", "inf", "nan"}
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> list[dict]:
    """Every panel, those inside collapsed rows included."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found += panel.get("panels", [])
    return found


def expressions(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", []) if "expr" in target]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions, keywords, label names
    (inside braces or after by/without) or durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, rest = match.group(), text[match.end():].lstrip()
        if rest.startswith("(") or name.lower() in PROMQL_WORDS:
            continue
        if match.start() > 0 and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number (1e3)
        names.add(name)
    return names


def dashboard_metrics(dashboard: dict) -> set[str]:
    return set().union(*(metric_names(e) for e in expressions(dashboard)))
