"""Writes the files that follow from deploy/topology.toml; `--check` fails when a committed one is stale.

    python3 deploy/generate.py          # rewrite them
    python3 deploy/generate.py --check  # exit 1 naming every file that differs (make test runs this)

Each generator is a function ``render(topology) -> {path relative to the repo: text}``; list it in GENERATORS.
Standard library only, like the launcher.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
sys.path.insert(0, str(DEPLOY))

import topology  # noqa: E402  (deploy/ is not a package: it is put on the path above)

# "module:function", modules relative to deploy/
GENERATORS: list[str] = [
    "containers.compose:render",
    "kubernetes.generate:render",
]


def rendered() -> dict[Path, str]:
    shop = topology.load()
    files: dict[Path, str] = {}
    for spec in GENERATORS:
        module, function = spec.split(":")
        for path, text in getattr(importlib.import_module(module), function)(shop).items():
            if Path(path) in files:
                raise SystemExit(f"{spec} writes {path}, which another generator writes too")
            files[Path(path)] = text
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in sorted(rendered().items()):
        target = REPO / path
        current = target.read_text() if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print(f"wrote {path}")
    if stale:
        print("stale generated files (run `python3 deploy/generate.py`):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
