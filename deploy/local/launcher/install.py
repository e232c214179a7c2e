"""Installing what the shop needs and is missing: system packages (apt), the virtualenv (pip), npm packages
and the frontend build. Each step is skipped when what it would install has not changed."""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from .commands import run
from .config import NGINX_DIR, REPO, VENV, SetupError
from .gateway import nginx_binary
from .monitoring import nginx_exporter_binary, prometheus_binary
from .progress import Progress


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        if path.exists():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def apt_install(packages: list[str]) -> None:
    """Install Debian packages without letting them start system services (the supervisor runs ours)."""
    if os.geteuid() != 0:
        raise SetupError(f"missing system packages: {' '.join(packages)}. Install them with\n"
                         f"  sudo apt-get install -y {' '.join(packages)}\nand run make up again.")
    if not shutil.which("apt-get"):
        raise SetupError(f"missing system packages: {' '.join(packages)}; install them with your package manager.")
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:  # keeps Debian's nginx from starting a system-wide server on port 80
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env, what="apt-get update")
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env, what=f"apt-get install {' '.join(packages)}")
    finally:
        if made_policy:
            policy.unlink(missing_ok=True)


def install_system_packages(progress: Progress) -> None:
    missing = []
    if not nginx_binary():
        missing.append("nginx")
    if (REPO / "frontend" / "package.json").exists() and not shutil.which("npm"):
        missing += ["nodejs", "npm"]
    if not shutil.which("openssl"):
        missing.append("openssl")
    if not prometheus_binary():
        missing.append("prometheus")
    if not nginx_exporter_binary():
        missing.append("prometheus-nginx-exporter")
    if missing:
        with progress.step(f"Installing system packages: {' '.join(missing)}"):
            apt_install(missing)


LOCK = REPO / "requirements-dev.lock"  # every package pinned with its hashes (scripts/lock.py)
SHOPKIT = REPO / "libs" / "shopkit"


def pip_installs() -> list[list[str]]:
    """The pip install arguments, in order: the lock, each package checked against its hashes; then shopkit, a
    local path hashes cannot apply to (its dependencies are in the lock; built with the locked setuptools)."""
    return [["--require-hashes", "-r", str(LOCK)], ["--no-deps", "--no-build-isolation", "-e", str(SHOPKIT)]]


def ensure_virtualenv(progress: Progress) -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        with progress.step(f"Creating the virtualenv {VENV.relative_to(REPO)}"):
            run([sys.executable, "-m", "venv", str(VENV)], what="python -m venv")
    sources = [LOCK, SHOPKIT / "pyproject.toml"]
    stamp, digest = VENV / ".shop-up-requirements", _digest(*sources)
    if stamp.exists() and stamp.read_text() == digest:
        return
    with progress.step("Installing Python packages (pip)"):
        for args in pip_installs():
            run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args], cwd=REPO,
                what=f"pip install {' '.join(args[:-1])} {Path(args[-1]).relative_to(REPO)}")
        stamp.write_text(digest)


def _npm_install(folder: Path, progress: Progress, label: str) -> None:
    lock = folder / "package-lock.json"
    stamp, digest = folder / "node_modules" / ".shop-up-stamp", _digest(folder / "package.json", lock)
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not shutil.which("npm"):
        raise SetupError(f"npm is missing: needed for {label}. Install nodejs and npm (apt-get install nodejs npm).")
    with progress.step(f"Installing npm packages for {label}"):
        cmd = ["npm", "ci" if lock.exists() else "install", "--no-audit", "--no-fund", "--loglevel=error"]
        if folder == NGINX_DIR:
            cmd.append("--ignore-scripts")  # static files only; swagger-ui-dist's dependency would phone home
        run(cmd, cwd=folder, what=f"npm in {folder.relative_to(REPO)}")
        stamp.write_text(digest)


def _newest_source(frontend: Path) -> float:
    newest = 0.0
    for root, dirs, files in os.walk(frontend):
        dirs[:] = [d for d in dirs if d not in ("node_modules", "dist", ".vite")]
        for name in files:
            newest = max(newest, (Path(root) / name).stat().st_mtime)
    return newest


def ensure_frontend(progress: Progress) -> None:
    frontend = REPO / "frontend"
    if not (frontend / "package.json").exists():
        return
    _npm_install(frontend, progress, "the frontend")
    built = frontend / "dist" / "index.html"
    if built.exists() and built.stat().st_mtime >= _newest_source(frontend):
        return
    with progress.step("Building the frontend (npm run build)"):
        run(["npm", "run", "build"], cwd=frontend, what="npm run build in frontend/")


def ensure_gateway_assets(progress: Progress) -> None:
    try:
        _npm_install(NGINX_DIR, progress, "the gateway (Swagger UI)")
    except SetupError as exc:
        progress.note(f"warning: {exc} — /api/docs/ will be missing")
