"""Settings of the order service; the shared ones come from shopkit, all read from the environment."""
from pathlib import Path

from shopkit.settings import configure

configure(__name__, service="order", base_dir=Path(__file__).resolve().parent.parent, apps=["orders"],
          handlers="orders.handlers.HANDLERS")
