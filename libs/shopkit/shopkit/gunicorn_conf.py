"""gunicorn's settings for every service's web process, defined once: `make up` and the container images run
`gunicorn config.wsgi --config python:shopkit.gunicorn_conf --bind <address>:<port>` (deploy/topology.toml)."""
import os
from pathlib import Path

# SHOP_WEB_WORKERS processes per master, each with a few threads: the gthread worker keeps the gateway's
# keep-alive connections to the upstream open without pinning a process per connection
workers = int(os.environ.get("SHOP_WEB_WORKERS") or 2)
worker_class = "gthread"
threads = 4
keepalive = 75  # longer than the gateway's idle upstream connections, so gunicorn never closes one under nginx
timeout = 30
graceful_timeout = 10  # requests in flight finish on SIGTERM; the supervisor waits longer than this
# the name in `ps` and in gunicorn's log: the launcher's program name (e.g. product-web-2), else <service>-web
proc_name = os.environ.get("SHOP_PROCESS_NAME") or f"{Path.cwd().name}-web"
# gunicorn 25+ opens a control socket at one fixed path per user, which every master of every shop on the machine
# would fight over; nothing uses it. Older versions ignore a setting they do not know.
control_socket_disable = True
