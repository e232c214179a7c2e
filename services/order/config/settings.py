"""Settings of the order service; the shared ones come from shopkit, all read from the environment."""
from pathlib import Path

from shopkit.settings import service_settings

globals().update(service_settings(service="order", base_dir=Path(__file__).resolve().parent.parent,
                                  apps=["orders"], handlers="orders.handlers.HANDLERS"))
