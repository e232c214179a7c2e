"""The Grafana dashboards in deploy/grafana/: well-formed for Grafana's provisioning, and every panel's metric one
the shop, RabbitMQ's plugin, the nginx exporter or Prometheus produces (the e2e suite checks them in a live scrape:
tests/e2e/test_metrics.py)."""
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import check  # noqa: E402  (deploy/grafana/check.py)

REPO = Path(__file__).resolve().parents[3]
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "table", "bargauge", "text", "heatmap"}


def shop_metric_names() -> set[str]:
    """Every family defined in the services' code (prometheus_client's Counter/Histogram/Gauge or a scrape-time
    GaugeMetricFamily), with the sample suffixes Prometheus sees."""
    names = set()
    sources = [REPO / "libs/shopkit/shopkit/metrics.py", *REPO.glob("services/*/*/metrics.py")]
    for source in sources:
        for kind, name in re.findall(r'(Counter|Histogram|Gauge|GaugeMetricFamily)\(\s*"([a-z_:]+)"',
                                     source.read_text()):
            if kind == "Counter":
                names.add(name if name.endswith("_total") else name + "_total")
            elif kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            else:
                names.add(name)
    return names


@pytest.fixture(params=check.DASHBOARDS, ids=lambda p: p.name)
def dashboard(request):
    return check.load(request.param)


def test_there_is_a_dashboard():
    assert [p.name for p in check.DASHBOARDS] == ["shop-overview.json"]


def test_it_is_a_grafana_dashboard(dashboard):
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    panels = check.panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["type"] in PANEL_TYPES and panel["title"], panel
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("x", "y", "w", "h")) and 0 <= grid["x"]
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']} overflows the 24-column grid"
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert panel["targets"] and len(refs) == len(set(refs)), panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"])


def test_panels_do_not_overlap(dashboard):
    cells = {}
    for panel in check.panels(dashboard):
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_every_panel_metric_is_one_something_produces(dashboard):
    produced = shop_metric_names()
    assert {"shop_outbox_pending", "shop_events_published_total", "shop_orders"} <= produced
    unknown = {name for name in check.dashboard_metrics(dashboard) if name not in produced
               and not name.startswith(("rabbitmq_", "nginx_")) and name != "up"}
    assert unknown == set()


def test_metric_names_are_read_from_promql():
    expr = ('histogram_quantile(0.95, sum by (le, route) (rate(shop_http_request_duration_seconds_bucket'
            '{status=~"5.."}[5m]))) / on (service) group_left max without (instance) (up) > 1e3 or vector(0)')
    assert check.metric_names(expr) == {"shop_http_request_duration_seconds_bucket", "up"}
