"""Settings of the small Django project shopkit's own tests run in (database from SHOPKIT_TEST_DATABASE_URL)."""
import os
import tempfile
import uuid
from pathlib import Path

from shopkit.db import database_from_url, sqlite_database
from shopkit.settings import configure

# A unique service name per run: its own queues, so tests can run beside a running shop.
_RUN = os.environ.setdefault("SHOPKIT_TEST_RUN", uuid.uuid4().hex[:8])

configure(__name__, service="kittest", base_dir=Path(__file__).parent, apps=["tests.kitapp"],
          handlers="tests.kitapp.handlers.HANDLERS")

ROOT_URLCONF = "tests.urls"
SHOPKIT_SERVICE = f"kittest{_RUN}"
_url = os.environ.get("SHOPKIT_TEST_DATABASE_URL", "")
if _url:
    DATABASES = {"default": database_from_url(_url)}
    DATABASES["default"]["TEST"] = {"NAME": f"test_shopkit_{_RUN}"}
else:
    DATABASES = {"default": sqlite_database(Path(tempfile.gettempdir()) / f"shopkit-{_RUN}.sqlite3")}
# Quick retries so tests watch them happen; what is not named keeps shopkit's default (shopkit.defaults).
SHOPKIT_CONSUMER = {"HANDLERS": "tests.kitapp.handlers.HANDLERS", "RETRY_BASE_MS": 100, "MAX_ATTEMPTS": 3,
                    "PREFETCH": 8}
SHOPKIT_OUTBOX = {"POLL_SECONDS": 5.0}
# `run_worker`'s tests: a loop of the project's own beside shopkit's (see tests/kitapp/loops.py)
SHOPKIT_WORKER_LOOPS = {"testloop": "tests.kitapp.loops.Loop"}
