"""Django DATABASES entries from URLs: SQLite (WAL, busy timeout, IMMEDIATE), PostgreSQL, MySQL/MariaDB."""
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# How long a SQLite writer waits for the lock before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 20


def sqlite_database(path: Path) -> dict:
    """A SQLite file tuned for several processes: WAL journal, a busy timeout, writers take the lock up front."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Opening a connection (connect + PRAGMAs) costs more than serving a catalog page: keep it, as the
        # server databases do.
        "CONN_MAX_AGE": 60,
        "OPTIONS": {
            "timeout": SQLITE_BUSY_TIMEOUT,
            # IMMEDIATE: a transaction that will write takes the write lock at BEGIN, so two writers never
            # deadlock upgrading read locks; this is what serialises stock reservations on SQLite.
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        "TEST": {"NAME": str(path.with_name(path.stem + "-test.sqlite3"))},
    }


def database_from_url(url: str) -> dict:
    """Parse ``sqlite:///path``, ``postgres://…`` or ``mysql://…`` into a Django database setting."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    query = dict(parse_qsl(parts.query))
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        if parts.netloc:  # sqlite://relative/path is a common slip; treat the host as the first segment
            raw_path = parts.netloc + raw_path
        return sqlite_database(Path(raw_path[1:] if raw_path.startswith("//") else raw_path))
    if scheme in ("postgres", "postgresql", "pgsql"):
        config = _server_database("django.db.backends.postgresql", parts, 5432)
        config["CONN_MAX_AGE"] = int(query.pop("conn_max_age", 60))
        config["CONN_HEALTH_CHECKS"] = True
        config["OPTIONS"] = query
        return config
    if scheme in ("mysql", "mariadb"):
        _ensure_mysql_driver()
        config = _server_database("django.db.backends.mysql", parts, 3306)
        config["CONN_MAX_AGE"] = int(query.pop("conn_max_age", 60))
        config["CONN_HEALTH_CHECKS"] = True
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            # READ COMMITTED: the isolation the outbox relay and the stock locks are written for.
            "isolation_level": "read committed",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            **query,
        }
        return config
    raise ImproperlyConfigured(f"unsupported database URL scheme {parts.scheme!r} in {url!r}")


def _server_database(engine: str, parts, default_port: int) -> dict:
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured(f"database URL {parts.geturl()!r} names no database")
    return {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or default_port),
        "TEST": {"NAME": f"test_{name}"},
    }


def _ensure_mysql_driver() -> None:
    """Use PyMySQL as the MySQLdb driver when mysqlclient (which needs C headers to build) is absent."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        import pymysql

        pymysql.install_as_MySQLdb()
