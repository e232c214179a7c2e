"""Reading configuration from the environment, with local defaults and clear failures."""
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str:
    """The variable's value, or ``default``; a missing variable with no default stops startup."""
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"environment variable {name} is required and has no default")
        return default
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"environment variable {name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"environment variable {name} must be a number, got {raw!r}") from None


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"environment variable {name} must be a boolean, got {raw!r}")


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_group(prefix: str, defaults: dict) -> dict:
    """A settings group read from ``<prefix><NAME>`` variables, each typed and defaulted by ``defaults``."""
    readers = {bool: env_bool, int: env_int, float: env_float, str: env_str}
    return {name: readers[type(default)](f"{prefix}{name}", default) for name, default in defaults.items()}


def data_dir() -> Path:
    """``$SHOP_DATA_DIR`` (default ``./var``), created on first use: databases, keys, logs live here."""
    path = Path(env_str("SHOP_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def parse_service_urls(value: str) -> dict[str, str]:
    """``identity=http://127.0.0.1:8001,product=http://…`` → {name: base URL}, in the order given."""
    urls = {}
    for item in value.split(","):
        name, _, url = item.strip().partition("=")
        if name.strip() and url.strip():
            urls[name.strip()] = url.strip().rstrip("/")
    return urls
