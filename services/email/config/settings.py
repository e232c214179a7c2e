"""Settings of the email service; the shared ones come from shopkit, all read from the environment."""
from pathlib import Path

from mail import conf
from shopkit.conf import env_bool, env_float, env_group, env_int, env_str
from shopkit.settings import configure

# aiosmtpd logs every connection at INFO under the name "mail.log"; only its warnings matter here.
configure(__name__, service="email", base_dir=Path(__file__).resolve().parent.parent, apps=["mail"],
          handlers="mail.handlers.HANDLERS", quiet_loggers=("mail.log",))

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

SHOP_EMAIL = env_group("SHOP_EMAIL_", conf.DELIVERY)

# The loops `manage.py run_worker` may run here besides shopkit's consumer and relay (`make up` runs all three in one
# process; send_emails runs the sender alone)
SHOPKIT_WORKER_LOOPS = {"sender": "mail.sender.Sender"}
