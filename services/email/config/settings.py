"""Settings of the email service; the shared ones come from shopkit, all read from the environment."""
from pathlib import Path

from shopkit.conf import env_bool, env_float, env_int, env_str
from shopkit.settings import service_settings

_shared = service_settings(service="email", base_dir=Path(__file__).resolve().parent.parent, apps=["mail"],
                           handlers="mail.handlers.HANDLERS")
# aiosmtpd logs every connection at INFO under the name "mail.log"; only its warnings matter here.
_shared["LOGGING"]["loggers"]["mail.log"] = {"level": "WARNING"}
globals().update(_shared)

# Outgoing SMTP; the default is the development sink that `make up` starts (manage.py smtp_sink).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Shop <shop@localhost>")

SHOP_EMAIL = {
    "MAX_ATTEMPTS": env_int("SHOP_EMAIL_MAX_ATTEMPTS", 8),
    "RETRY_BASE_SECONDS": env_float("SHOP_EMAIL_RETRY_BASE_SECONDS", 10.0),
    "RETRY_MAX_SECONDS": env_float("SHOP_EMAIL_RETRY_MAX_SECONDS", 3600.0),
    "POLL_SECONDS": env_float("SHOP_EMAIL_POLL_SECONDS", 0.5),
    "BATCH_SIZE": env_int("SHOP_EMAIL_BATCH_SIZE", 20),
    "LEASE_SECONDS": env_float("SHOP_EMAIL_LEASE_SECONDS", 120.0),
    "SERVER_RETRY_MAX_SECONDS": env_float("SHOP_EMAIL_SERVER_RETRY_MAX_SECONDS", 30.0),
}
