"""The health endpoint of a worker process (consumer, relay, sender): `/healthz`, `/readyz` and `/metrics`.

Workers have no web server, yet containers and Kubernetes probe them like the web processes. When
``SHOP_HEALTH_PORT`` is set, ``shopkit.messaging.runtime.run_until_signalled`` starts this server in a thread
and beats its heartbeat from the worker's event loop:

- ``GET /healthz`` 200 while the loop is alive (a heartbeat within ``SHOP_HEALTH_STALE_SECONDS``), else 503:
  a loop stuck in a blocking call is restarted by the orchestrator;
- ``GET /readyz`` 200 when alive and the worker says it is ready (connected to the broker and running), else
  503 with the reason;
- ``GET /metrics`` the worker's Prometheus metrics (``shopkit.metrics``).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shopkit import metrics

HEARTBEAT_SECONDS = 1.0
DEFAULT_STALE_SECONDS = 30.0


class HealthServer:
    """Answers the probes on ``host:port`` (port 0 picks a free one: see ``.port``) from a daemon thread."""

    def __init__(self, port: int, *, ready: Callable[[], bool] | None = None, host: str = "0.0.0.0",
                 stale_after: float = DEFAULT_STALE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ready = ready or (lambda: True)
        self.stale_after = stale_after
        self.clock = clock
        self.last_beat = clock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                path = self.path.split("?", 1)[0]
                if path == "/metrics":  # the worker's own counters, for Prometheus (shopkit.metrics)
                    payload, content_type = metrics.exposition(scrape_time=False)
                    status = 200
                else:
                    status, body = server.answer(path)
                    payload, content_type = json.dumps(body).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):  # noqa: A002 - probes every few seconds would flood the log
                pass

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="health-server", daemon=True)

    def beat(self) -> None:
        self.last_beat = self.clock()

    def answer(self, path: str) -> tuple[int, dict]:
        silent = self.clock() - self.last_beat
        alive = silent < self.stale_after
        if path == "/healthz":
            if alive:
                return 200, {"status": "ok"}
            return 503, {"status": "unavailable", "failures": [f"event loop: no heartbeat for {silent:.0f}s"]}
        if path == "/readyz":
            failures = [] if alive else [f"event loop: no heartbeat for {silent:.0f}s"]
            try:
                ready = bool(self.ready())
            except Exception as exc:  # noqa: BLE001 - a failing check means not ready; the reason is reported
                failures.append(f"worker: {exc!r}")
            else:
                if not ready:
                    failures.append("worker: not connected to the broker, or not running yet")
            if failures:
                return 503, {"status": "unavailable", "failures": failures}
            return 200, {"status": "ok"}
        return 404, {"status": "not found"}

    def start(self) -> "HealthServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
