"""The launcher's one templating rule: ``{{NAME}}`` is replaced by a value, and a name without one is an error."""
from __future__ import annotations

import re

from .config import SetupError

PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")


def render(template: str, values: dict) -> str:
    def fill(match):
        name = match.group(1)
        if name not in values:
            raise SetupError(f"template placeholder {{{{{name}}}}} has no value")
        return str(values[name])
    return PLACEHOLDER.sub(fill, template)
