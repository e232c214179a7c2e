"""The launcher behind `make up` (deploy/local/up.py), one concern per module; standard library only.

    config      settings from the environment, with defaults from deploy/topology.toml
    progress    what the terminal shows while steps run
    commands    running a setup command, failing with the tail of its output
    install     apt, pip, npm and the frontend build
    tls         the gateway's self-signed certificate
    render      the {{PLACEHOLDER}} templating of every config file
    gateway     the nginx config: upstreams from the topology, location rules from deploy/nginx/
    supervisor  the program table (from the topology) and supervisord.conf
    processes   pid records of every process it starts, and stopping what a run left behind
    rabbitmq    the broker and its vhost
    databases   migrate, seed, declare the queues
    run         supervisord in the foreground, readiness, stop
    banner      the addresses printed once the shop is ready
    cli         `up.py`'s options and the order of the steps
"""
import sys
from pathlib import Path

# deploy/ holds topology.py, which the launcher reads; deploy/ is not a package, so it goes on the path
_DEPLOY = str(Path(__file__).resolve().parents[2])
if _DEPLOY not in sys.path:
    sys.path.insert(0, _DEPLOY)
