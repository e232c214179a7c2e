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

# Prometheus counts in files, one per worker process, so `/metrics` sums every worker of this master. Each master
# gets its own folder (two masters of a service must not add up or wipe each other's), set in the master before
# any worker imports prometheus_client, emptied when the master starts (a dead run's counts would linger) and told
# when a worker exits (its live gauges go). See shopkit.metrics.
def _metrics_dir() -> Path:
    root = os.environ.get("SHOP_METRICS_DIR") or Path(os.environ.get("SHOP_DATA_DIR") or "var").resolve() / "run" / "metrics"
    return Path(root) / proc_name


def on_starting(server):
    import shutil

    folder = _metrics_dir()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # the workers, forked after this, inherit it


def when_ready(server):
    """Import the service once, in the master, before the workers fork from it: one Django start-up per master
    instead of one per worker, and the workers share the imported code and data copy-on-write, so each costs a
    fraction of a process. gunicorn's preload_app would do it before on_starting has set the metrics folder, which
    prometheus_client reads when it is imported; so it is done here, and each worker's own load returns this app."""
    import gc

    server.app.wsgi()
    # the import made prometheus_client open count files for the master itself: it serves no request, and each
    # worker opens its own (prometheus_client starts afresh after a fork), so the master's zeros go
    for path in _metrics_dir().glob(f"*_{os.getpid()}.db"):
        path.unlink(missing_ok=True)
    gc.freeze()  # the workers' garbage collections then leave the master's objects, and their pages, untouched


def post_worker_init(worker):
    """Each worker fetches identity's public keys as it starts, not when the first token arrives (KeySet.warm).
    An app that is not a Django project set up by then (when_ready loaded it) has no keys to fetch."""
    from django.conf import settings

    if not settings.configured:
        return
    from shopkit.auth import KEYS

    KEYS.warm()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
