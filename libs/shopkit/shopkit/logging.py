"""JSON logs through structlog, every line carrying the service, request id and correlation id."""
import re
import uuid

import structlog

from shopkit import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _add_ids(logger, method_name, event_dict):
    request_id = context.request_id.get()
    correlation_id = context.correlation_id.get()
    if request_id and "request_id" not in event_dict:
        event_dict["request_id"] = request_id
    if correlation_id and "correlation_id" not in event_dict:
        event_dict["correlation_id"] = correlation_id
    return event_dict


def logging_config(service: str, level: str = "INFO") -> dict:
    """A LOGGING setting: stdlib and structlog records alike rendered as one JSON object per line."""
    def add_service(logger, method_name, event_dict):
        event_dict.setdefault("service", service)
        return event_dict

    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
        _add_ids,
        structlog.stdlib.ExtraAdder(),
    ]
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                               structlog.processors.format_exc_info,
                               structlog.processors.JSONRenderer()],
                "foreign_pre_chain": shared,
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "aiormq": {"level": "WARNING"},
            "aio_pika": {"level": "WARNING"},
        },
    }


def get_logger(name: str):
    return structlog.get_logger(name)


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` (the gateway sets one) or makes one; it becomes the correlation id of the work
    the request starts, and is echoed back on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.request_id = request_id
        rid_token = context.request_id.set(request_id)
        cid_token = context.correlation_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(rid_token)
            context.correlation_id.reset(cid_token)
        response["X-Request-ID"] = request_id
        return response
