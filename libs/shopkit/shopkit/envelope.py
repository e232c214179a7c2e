"""CloudEvents 1.0 envelopes in structured JSON mode: build, serialize, parse and validate."""
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from shopkit.events import SCHEMAS, InvalidEvent, validate_payload

CONTENT_TYPE = "application/cloudevents+json"
SPECVERSION = "1.0"
_REQUIRED = ("specversion", "id", "source", "type", "time", "datacontenttype", "data")
_SOURCE = re.compile(r"^/shop/[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Event:
    """One event as it travels: the CloudEvents attributes and its validated ``data``."""

    type: str
    source: str
    data: dict
    subject: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: _now())
    correlationid: str = ""
    dataschema: str = ""

    def to_dict(self) -> dict:
        envelope = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "subject": self.subject,
            "datacontenttype": "application/json",
            "dataschema": self.dataschema,
            "correlationid": self.correlationid,
            "data": self.data,
        }
        return envelope

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_event(event_type: str, data: dict, *, source: str, subject: str = "", correlation_id: str = "") -> Event:
    """A new event with a fresh id and time; the payload is checked against its schema (InvalidEvent if not)."""
    if not _SOURCE.match(source):
        raise InvalidEvent(f"source must look like /shop/<service>, got {source!r}")
    clean = validate_payload(event_type, data)
    return Event(
        type=event_type,
        source=source,
        data=clean,
        subject=str(subject),
        correlationid=correlation_id,
        dataschema=SCHEMAS[event_type].uri,
    )


def parse_event(body: bytes | str) -> Event:
    """Parse a structured-mode envelope and validate its payload. Raises InvalidEvent, never anything else."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"envelope is not JSON: {exc}") from None
    except RecursionError:  # nested deeper than the parser's stack: hostile, never a crash of the consumer
        raise InvalidEvent("envelope is nested too deeply") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("envelope must be a JSON object")
    missing = [name for name in _REQUIRED if name not in raw]
    if missing:
        raise InvalidEvent(f"envelope lacks {', '.join(missing)}")
    if raw["specversion"] != SPECVERSION:
        raise InvalidEvent(f"unsupported specversion {raw['specversion']!r}")
    for name in ("id", "source", "type", "time"):
        if not isinstance(raw[name], str) or not raw[name]:
            raise InvalidEvent(f"envelope attribute {name} must be a non-empty string")
    try:
        datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"envelope time {raw['time']!r} is not RFC 3339") from None
    data = validate_payload(raw["type"], raw["data"])
    return Event(
        type=raw["type"],
        source=raw["source"],
        data=data,
        subject=str(raw.get("subject") or ""),
        id=raw["id"],
        time=raw["time"],
        correlationid=str(raw.get("correlationid") or ""),
        dataschema=str(raw.get("dataschema") or ""),
    )
