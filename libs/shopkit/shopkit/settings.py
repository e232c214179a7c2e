"""The settings every service shares; a service's own settings.py calls `configure(__name__, …)` and adds little."""
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shopkit import defaults
from shopkit.conf import data_dir, env_bool, env_group, env_int, env_str, parse_service_urls
from shopkit.db import database_from_url, sqlite_database
from shopkit.hosts import allowed_hosts_from_env, public_url_from_env
from shopkit.logging import logging_config


def secret_key(service: str) -> str:
    """`<SERVICE>_SECRET_KEY` or `SHOP_SECRET_KEY`; only development (SHOP_ENV != production) has a default."""
    value = env_str(f"{service.upper()}_SECRET_KEY", "") or env_str("SHOP_SECRET_KEY", "")
    if value:
        return value
    if env_str("SHOP_ENV", "development") == "production":
        raise ImproperlyConfigured(f"set {service.upper()}_SECRET_KEY or SHOP_SECRET_KEY in production")
    return f"dev-only-insecure-key-{service}"


def database(service: str) -> dict:
    """`<SERVICE>_DATABASE_URL`, or a SQLite file `$SHOP_DATA_DIR/<service>.sqlite3`."""
    url = env_str(f"{service.upper()}_DATABASE_URL", "")
    if url:
        return database_from_url(url)
    return sqlite_database(data_dir() / f"{service}.sqlite3")


def configure(module: str, **options) -> None:
    """Make the settings module ``module`` (pass ``__name__``) hold every shared setting of one service:
    what ``service_settings(**options)`` returns, as module attributes for Django to read."""
    target = sys.modules[module]
    for name, value in service_settings(**options).items():
        setattr(target, name, value)


def service_settings(*, service: str, base_dir: Path, apps: list[str], handlers: str = "",
                     title: str = "", jwt: dict | None = None, quiet_loggers: tuple[str, ...] = ()) -> dict:
    """All of Django's settings for one service. ``handlers`` is the dotted path of its event handler table,
    ``jwt`` overrides parts of SHOPKIT_JWT, ``quiet_loggers`` are loggers that log only warnings."""
    debug = env_bool("SHOP_DEBUG", False)
    public_key = env_str("SHOP_JWT_PUBLIC_KEY", "")
    public_url = public_url_from_env()
    jwks_url = env_str("SHOP_JWKS_URL", defaults.JWT["JWKS_URL"])
    logging = logging_config(service, env_str("SHOP_LOG_LEVEL", "INFO"))
    for name in quiet_loggers:
        logging["loggers"][name] = {"level": "WARNING"}
    return {
        "BASE_DIR": base_dir,
        "SECRET_KEY": secret_key(service),
        "DEBUG": debug,
        # DESIGN.md §6: the public host and the loopback names (shopkit.hosts), checked on every request
        "ALLOWED_HOSTS": allowed_hosts_from_env(public_url, jwks_url),
        "SHOP_PUBLIC_URL": public_url,  # links in pages and emails start here, never with the request's Host
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "rest_framework",
            "drf_spectacular",
            "shopkit",
            "shopkit.messaging",
            *apps,
        ],
        "MIDDLEWARE": [
            "shopkit.metrics.MetricsMiddleware",  # outermost: it times and counts every response
            "shopkit.logging.RequestIdMiddleware",
            "shopkit.hosts.AllowedHostsMiddleware",
            "shopkit.guard.NulCharacterMiddleware",
            "django.middleware.security.SecurityMiddleware",
        ],
        "ROOT_URLCONF": "config.urls",
        "WSGI_APPLICATION": "config.wsgi.application",
        "APPEND_SLASH": False,
        "STATIC_URL": "/static/",
        # The gateway terminates TLS and says so (request.is_secure()); links start with SHOP_PUBLIC_URL anyway.
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "TEMPLATES": [{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": []},
        }],
        "DATABASES": {"default": database(service)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LANGUAGE_CODE": "en",
        "USE_I18N": False,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": env_int("SHOP_MAX_BODY_BYTES", 1024 * 1024),
        "LOGGING": logging,
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": ["shopkit.auth.JWTAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["shopkit.guard.JSONParser"],  # depth-limited (hostile input)
            "DEFAULT_PAGINATION_CLASS": "shopkit.pagination.Pagination",
            "PAGE_SIZE": 20,
            "EXCEPTION_HANDLER": "shopkit.problems.exception_handler",
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            "UNAUTHENTICATED_USER": None,
            "COERCE_DECIMAL_TO_STRING": True,
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": title or f"Shop {service} service",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "PREPROCESSING_HOOKS": ["shopkit.openapi.drop_slashed_aliases"],
        },
        "SHOPKIT_SERVICE": service,
        "SHOPKIT_RABBITMQ_URL": env_str("RABBITMQ_URL", defaults.RABBITMQ_URL),
        "SHOPKIT_JWT": {
            **defaults.JWT,
            "ISSUER": env_str("SHOP_JWT_ISSUER", defaults.JWT["ISSUER"]),
            "AUDIENCE": env_str("SHOP_JWT_AUDIENCE", defaults.JWT["AUDIENCE"]),
            "JWKS_URL": jwks_url,
            "PUBLIC_KEYS": {env_str("SHOP_JWT_PUBLIC_KEY_ID", "pinned"): public_key} if public_key else {},
            **(jwt or {}),
        },
        "SHOPKIT_OUTBOX": env_group("SHOP_OUTBOX_", defaults.OUTBOX),
        "SHOPKIT_CONSUMER": {"HANDLERS": handlers, **env_group("SHOP_CONSUMER_", defaults.CONSUMER)},
        # Every service's web address, for the shop-wide ops status (shopkit.ops): "name=url,name=url".
        "SHOPKIT_OPS": {"SERVICES": parse_service_urls(env_str("SHOP_SERVICE_URLS", ""))},
    }
