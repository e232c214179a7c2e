"""Settings of the product service; the shared ones come from shopkit, all read from the environment."""
from pathlib import Path

from shopkit.settings import configure

configure(__name__, service="product", base_dir=Path(__file__).resolve().parent.parent, apps=["catalog"],
          handlers="catalog.handlers.HANDLERS", title="Shop product service")
