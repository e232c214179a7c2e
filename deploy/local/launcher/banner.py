"""The shop's addresses once it is ready: printed on the terminal and written to $SHOP_DATA_DIR/run/ready.json."""
from __future__ import annotations

import os

from .config import REPO, VENV, Config
from .monitoring import prometheus_port
from .rabbitmq import management_url


def urls(cfg: Config) -> dict:
    https = f"https://localhost:{cfg.https_port}/"
    found = {"shop": f"{cfg.public_url}/", "shop_https": https, "api_docs": f"{cfg.public_url}/api/docs/",
             "supervisor_conf": str(cfg.supervisor_conf), "logs": str(cfg.log_dir)}
    if cfg.uses_local_sink:
        found["mailbox"] = f"http://127.0.0.1:{cfg.mailbox_port}/"
        found["maildir"] = str(cfg.maildir)
    found["prometheus"] = f"http://127.0.0.1:{prometheus_port(cfg)}/"
    management = management_url(cfg)
    if management:
        found["rabbitmq_management"] = management
    return found


def print_banner(cfg: Config, found: dict) -> None:
    password = "*" * len(cfg.admin_password) if "SHOP_ADMIN_PASSWORD" in os.environ else cfg.admin_password
    lines = [
        "",
        "The shop is running.",
        f"  Shop            {found['shop']}   (HTTPS, self-signed: {found['shop_https']})",
        f"  API docs        {found['api_docs']}",
    ]
    if "mailbox" in found:
        lines.append(f"  Mailbox         {found['mailbox']}   (files in {found['maildir']})")
    else:
        lines.append(f"  Email           sent to {cfg.email_host}:{cfg.email_port}")
    if "rabbitmq_management" in found:
        lines.append(f"  RabbitMQ UI     {found['rabbitmq_management']}")
    lines.append(f"  Prometheus      {found['prometheus']}   (alerts: {found['prometheus']}alerts)")
    lines += [
        f"  Staff login     {cfg.admin_email} / {password}",
        f"  Data and logs   {cfg.data_dir}  (logs in {cfg.log_dir})",
        f"  Processes       {VENV.relative_to(REPO)}/bin/supervisorctl -c {cfg.supervisor_conf} status",
        "Press Ctrl-C to stop (or `make down` from another terminal).",
        "",
    ]
    print("\n".join(lines), flush=True)
