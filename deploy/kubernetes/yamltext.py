"""A small, deterministic YAML writer for the generated manifests (standard library only: no PyYAML at generate time).

Mappings keep their insertion order; strings are written plain when YAML would read them back as the same
string, else double-quoted with JSON escapes (a JSON string is a valid YAML double-quoted scalar).
"""
from __future__ import annotations

import json
import re

# Plain scalars we allow: nothing YAML could read as another type or as syntax.
_PLAIN = re.compile(r"^[A-Za-z_/.][A-Za-z0-9_./@-]*$")
_SPECIAL = re.compile(r"^(y|n|yes|no|on|off|true|false|null|~)$", re.IGNORECASE)


def scalar(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and not _SPECIAL.match(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _lines(value, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        out = []
        for key, item in value.items():
            head = f"{pad}{scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head)
                # sequences under a mapping key are indented like their key (the usual Kubernetes style)
                out.extend(_lines(item, indent if isinstance(item, list) else indent + 2))
            else:
                out.append(f"{head} {_inline(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = _lines(item, indent + 2)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + scalar(value)]


def _inline(value) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def document(value) -> str:
    """One YAML document (no leading ``---``), ending with a newline."""
    return "\n".join(_lines(value, 0)) + "\n"


def documents(values, header: str = "") -> str:
    """Several documents separated by ``---``, after an optional comment header."""
    text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return text + "---\n".join(document(v) for v in values)
