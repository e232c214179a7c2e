"""The Python lock files (every package pinned, with its hashes) compiled from the requirements, and checked.

    python3 scripts/lock.py            re-compile every lock with pip-compile (pip-tools; network: PyPI)
    python3 scripts/lock.py --check    offline: every lock pins, with hashes, every requirement it is made from,
                                       at a version the requirement allows (`make test-deploy` runs this)

One lock per set of requirements that is installed (pip install --require-hashes -r <lock>):
    requirements-dev.lock            the development and test virtualenv (.venv: `make deps`, `make up`)
    requirements-image.lock          the services' container image (shopkit's and every service's requirements)
    deploy/kubernetes/requirements.lock   what `make test-kubernetes` adds to .venv (a superset of the dev lock)
shopkit itself (libs/shopkit, a local path) is never in a lock: hashes cannot apply to it. It is installed after
its lock, with --no-deps (its dependencies are in the lock). pip and setuptools are pinned too (--allow-unsafe):
shopkit is built with the locked setuptools (--no-build-isolation), so nothing is fetched unchecked.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHOPKIT = REPO / "libs" / "shopkit" / "pyproject.toml"
SERVICES = sorted((REPO / "services").glob("*/requirements.txt"))
BUILD = REPO / "libs" / "shopkit" / "build-requirements.txt"  # setuptools, to build shopkit without isolation
SHOPKIT_EXTRAS = ("postgres", "mysql")
# lock → what it is compiled from (requirements files, or shopkit's pyproject.toml with SHOPKIT_EXTRAS)
LOCKS = {
    REPO / "requirements-dev.lock": [SHOPKIT, REPO / "requirements-dev.txt", BUILD],
    REPO / "requirements-image.lock": [SHOPKIT, *SERVICES, BUILD],
    REPO / "deploy" / "kubernetes" / "requirements.lock": [SHOPKIT, REPO / "requirements-dev.txt", BUILD,
                                                          REPO / "deploy" / "kubernetes" / "requirements.txt"],
}
EDITABLE = re.compile(r"^-e .*\n(    # via.*\n|    #   .*\n)*", re.M)  # shopkit's own entry in a compiled lock


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def compile_lock(lock: Path, sources: list[Path], output: Path) -> None:
    """pip-compile ``sources`` into ``output`` (hashes, no index addresses of this machine), less shopkit itself."""
    tool = shutil.which("pip-compile", path=str(REPO / ".venv" / "bin")) or shutil.which("pip-compile")
    if not tool:
        sys.exit("pip-compile is missing: make deps installs pip-tools into .venv")
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 scripts/lock.py"}
    extras = [arg for extra in SHOPKIT_EXTRAS for arg in ("--extra", extra)] if SHOPKIT in sources else []
    subprocess.run([tool, "--quiet", "--generate-hashes", "--allow-unsafe", "--strip-extras", "--no-emit-index-url",
                    "--no-emit-find-links", "--no-emit-trusted-host", "--resolver=backtracking", *extras,
                    "--output-file", str(output), *(str(s.relative_to(REPO)) for s in sources)],
                   cwd=REPO, env=env, check=True)
    output.write_text(EDITABLE.sub("", output.read_text()))


def requirements(path: Path) -> list[str]:
    """The requirement lines ``path`` asks for, following -r; shopkit's (pyproject) with SHOPKIT_EXTRAS."""
    if path.suffix == ".toml":
        project = tomllib.loads(path.read_text())["project"]
        found = list(project["dependencies"])
        for extra in SHOPKIT_EXTRAS:
            found += project.get("optional-dependencies", {}).get(extra, [])
        return found
    found = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found += requirements((path.parent / line[3:].strip()).resolve())
        elif line.startswith("-e "):
            target = line[3:].strip().split("[", 1)[0]
            found += requirements((REPO / target / "pyproject.toml").resolve())
        else:
            found.append(line)
    return found


def pinned(lock: Path) -> dict[str, tuple[str, int]]:
    """name → (version, how many hashes) of every package the lock pins."""
    found, current = {}, None
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^ ;\\]+)", line)
        if match:
            current = _name(match.group(1))
            found[current] = (match.group(3), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif line and not line.startswith(" "):
            current = None
    return found


def check() -> list[str]:
    from packaging.requirements import Requirement  # in .venv (make deps); the check runs there

    problems = []
    for lock, sources in LOCKS.items():
        where = lock.relative_to(REPO)
        if not lock.exists():
            problems.append(f"{where} is missing: run python3 scripts/lock.py")
            continue
        if re.search(r"^-e ", lock.read_text(), re.M):
            problems.append(f"{where}: an editable entry (hashes cannot apply to it; install it with --no-deps)")
        pins = pinned(lock)
        for name, (version, hashes) in pins.items():
            if not hashes:
                problems.append(f"{where}: {name}=={version} has no hash")
        for source in sources:
            for line in requirements(source):
                requirement = Requirement(line)
                if requirement.marker and not requirement.marker.evaluate():
                    continue
                pin = pins.get(_name(requirement.name))
                if pin is None:
                    problems.append(f"{where}: {requirement.name} ({source.relative_to(REPO)}) is not pinned: "
                                    f"run python3 scripts/lock.py")
                elif not requirement.specifier.contains(pin[0], prereleases=True):
                    problems.append(f"{where}: {requirement.name}=={pin[0]} does not satisfy {requirement} "
                                    f"({source.relative_to(REPO)}): run python3 scripts/lock.py")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the locks against the requirements, offline")
    args = parser.parse_args()
    if args.check:
        problems = check()
        for problem in problems:
            print(f"✗ {problem}", file=sys.stderr)
        if not problems:
            print(f"the {len(LOCKS)} lock files pin every requirement, with hashes")
        return 1 if problems else 0
    for lock, sources in LOCKS.items():
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / lock.name
            if lock.exists():
                shutil.copy(lock, output)  # pip-compile keeps the pins it can (no upgrade unless asked)
            compile_lock(lock, sources, output)
            shutil.copy(output, lock)
        print(f"wrote {lock.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
