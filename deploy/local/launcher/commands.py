"""Running one setup command (pip, npm, manage.py …) and failing with the tail of its output."""
from __future__ import annotations

import subprocess
from pathlib import Path

from .config import SetupError


def run(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, quiet: bool = True,
        what: str = "") -> subprocess.CompletedProcess:
    """Run ``cmd``; on failure raise SetupError carrying the tail of its output."""
    result = subprocess.run(cmd, env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)
    if result.returncode != 0:
        tail = "\n".join((result.stdout or "").strip().splitlines()[-25:])
        raise SetupError(f"{what or ' '.join(cmd)} failed (exit {result.returncode})\n{tail}")
    return result
