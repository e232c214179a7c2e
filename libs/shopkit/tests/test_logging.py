"""Every log line is one JSON object naming the service and the request and correlation ids of the work."""
import json
import logging

from shopkit import context
from shopkit.context import correlated
from shopkit.logging import logging_config


def render(record: logging.LogRecord) -> dict:
    config = logging_config("kittest")
    formatter_conf = dict(config["formatters"]["json"])
    factory = formatter_conf.pop("()")
    return json.loads(factory(**formatter_conf).format(record))


def make_record(message: str, **extra) -> logging.LogRecord:
    record = logging.LogRecord("shop.test", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_a_stdlib_log_line_carries_service_and_correlation_id():
    token = context.request_id.set("req-9")
    try:
        with correlated("corr-7"):
            line = render(make_record("stock low", product_id="p1"))
    finally:
        context.request_id.reset(token)
    assert line["event"] == "stock low"
    assert line["service"] == "kittest"
    assert line["request_id"] == "req-9"
    assert line["correlation_id"] == "corr-7"
    assert line["product_id"] == "p1"
    assert line["level"] == "warning"
    assert "timestamp" in line


def test_outside_any_request_no_ids_are_invented():
    line = render(make_record("started"))
    assert "request_id" not in line and "correlation_id" not in line


def test_work_outside_a_request_does_not_leave_its_correlation_id_behind():
    from shopkit.context import current_correlation_id

    first, second = current_correlation_id(), current_correlation_id()
    assert first != second
    assert context.correlation_id.get() is None
