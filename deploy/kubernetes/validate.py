"""Render each overlay with `kubectl kustomize` and validate every resource; exit 1 naming each problem.

Built-in kinds are checked by kubernetes-validate (offline schemas, strict: an unknown field is an error) for
KUBERNETES_VERSION; the operators' custom resources (RabbitmqCluster, Vhost, User, Permission, CloudNativePG
Cluster, mariadb-operator MariaDB/Database/User/Grant) against schemas/crds.json, which we wrote for the fields
these manifests use (strict too). A kind with neither is an error.

    python deploy/kubernetes/validate.py [--kubectl PATH] [dev prod]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32.0"  # the oldest version the manifests target (matchLabelKeys, endPort, …)
CRD_SCHEMAS = HERE / "schemas" / "crds.json"


def kubectl_path(explicit: str | None = None) -> str:
    """The kubectl to render with: --kubectl, $KUBECTL, the virtualenv's (requirements.txt), else PATH."""
    venv_kubectl = Path(sys.executable).with_name("kubectl")
    for candidate in (explicit, os.environ.get("KUBECTL"), str(venv_kubectl) if venv_kubectl.exists() else None,
                      shutil.which("kubectl")):
        if candidate:
            return candidate
    raise SystemExit("no kubectl: run `make test-kubernetes` (it installs deploy/kubernetes/requirements.txt)")


def render(overlay: str, kubectl: str | None = None) -> list[dict]:
    """The overlay's resources, as `kubectl kustomize` renders them."""
    result = subprocess.run([kubectl_path(kubectl), "kustomize", str(HERE / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"kubectl kustomize overlays/{overlay} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def crd_schemas() -> dict[str, dict]:
    return json.loads(CRD_SCHEMAS.read_text())


def problems(resources: list[dict], schemas: dict[str, dict] | None = None) -> list[str]:
    """What is wrong with each resource (empty when all are valid)."""
    schemas = crd_schemas() if schemas is None else schemas
    found = []
    for resource in resources:
        name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        key = f"{resource.get('apiVersion')}/{resource.get('kind')}"
        if key in schemas:
            validator = jsonschema.Draft202012Validator(schemas[key])
            found += [f"{name}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                      for e in validator.iter_errors(resource)]
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            found.append(f"{name}: no schema for {key} (neither built in nor in schemas/crds.json)")
        except kubernetes_validate.ValidationError as exc:
            found.append(f"{name}: {'/'.join(map(str, exc.path)) or '(root)'}: {exc.message}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl")
    parser.add_argument("overlays", nargs="*", default=list(OVERLAYS))
    args = parser.parse_args(argv)
    failed = False
    schemas = crd_schemas()
    for overlay in args.overlays:
        resources = render(overlay, args.kubectl)
        found = problems(resources, schemas)
        custom = sum(f"{r['apiVersion']}/{r['kind']}" in schemas for r in resources)
        if found:
            failed = True
            print(f"overlays/{overlay}: {len(found)} problem(s):\n  " + "\n  ".join(found), file=sys.stderr)
        else:
            print(f"overlays/{overlay}: {len(resources)} resources valid ({len(resources) - custom} against "
                  f"Kubernetes {KUBERNETES_VERSION}, {custom} against schemas/crds.json)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
