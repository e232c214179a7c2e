"""create-secrets.sh makes exactly the Secrets (and keys) the manifests reference, and keeps existing ones.

kubectl is a fake here (a unit test of the script: it records the Secrets in a folder); openssl is the real one.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEPLOY, rendered

SCRIPT = DEPLOY / "kubernetes" / "create-secrets.sh"
FAKE_KUBECTL = """#!{python}
import json, sys
from pathlib import Path
store = Path({store!r})
args = sys.argv[1:]
assert args[:1] == ["-n"], args
namespace, verb, kind, name, rest = args[1], args[2], args[3], args[4], args[5:]
path = store / namespace / name
if verb == "get":
    sys.exit(0 if path.exists() else 1)
assert (verb, kind, name) == ("create", "secret", "generic") or (verb, kind) == ("create", "secret"), args
name = rest[0]
data = {{}}
for arg in rest[1:]:
    assert arg.startswith("--from-file="), arg  # values never on the command line
    key, source = arg[len("--from-file="):].split("=", 1)
    data[key] = Path(source).read_text()
(store / namespace).mkdir(parents=True, exist_ok=True)
(store / namespace / name).write_text(json.dumps(data))
"""

# Secrets that operators make, or that the deployer brings (documented in README.md)
NOT_OURS = {"shop-tls"}


def references(resources):
    """(secret, key) pairs the manifests read; key None for a whole Secret (imported credentials)."""
    found, optional = set(), set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("secretKeyRef")
            if ref:
                (optional if ref.get("optional") else found).add((ref["name"], ref["key"]))
            for key in ("rootPasswordSecretKeyRef", "passwordSecretKeyRef"):
                if key in node:
                    found.add((node[key]["name"], node[key]["key"]))
            if "importCredentialsSecret" in node:
                found.update({(node["importCredentialsSecret"]["name"], "username"),
                              (node["importCredentialsSecret"]["name"], "password")})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(resources)
    return found, optional


@pytest.fixture
def run(tmp_path):
    bin_dir, store = tmp_path / "bin", tmp_path / "secrets"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable, store=str(store)))
    kubectl.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    def go(namespace="shop-test"):
        result = subprocess.run(["sh", str(SCRIPT), namespace], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        secrets = {p.name: json.loads(p.read_text()) for p in (store / namespace).iterdir()}
        return result.stdout, secrets
    return go


def test_the_script_creates_every_secret_the_manifests_read(run, shop):
    _, secrets = run()
    created = {(name, key) for name, data in secrets.items() for key in data}
    for overlay in ("dev", "prod"):
        needed, optional = references(rendered(overlay))
        operators = {(f"{s.name}-db-app", "uri") for s in shop.services if s.database == "postgres"}
        missing = needed - created - operators - {r for r in needed if r[0] in NOT_OURS}
        assert not missing, f"{overlay}: referenced but not created: {sorted(missing)}"
        unused = created - needed
        assert not unused, f"{overlay}: created but never read: {sorted(unused)}"
        assert all(name.endswith("-smtp") for name, _ in optional)


def test_values_are_random_hex_and_the_signing_key_is_a_real_pair(run, shop):
    _, secrets = run()
    keys = secrets["shop-secret-keys"]
    assert set(keys) == {s.name for s in shop.services}
    assert len(set(keys.values())) == len(keys) and all(len(v) == 48 and int(v, 16) for v in keys.values())
    for service in shop.services:
        assert secrets[f"broker-{service.name}"]["username"] == service.name
    jwt = secrets["shop-jwt"]
    derived = subprocess.run(["openssl", "pkey", "-pubout"], input=jwt["private.pem"], capture_output=True,
                             text=True, check=True).stdout
    assert "PRIVATE KEY" in jwt["private.pem"] and derived == jwt["public.pem"]
    assert jwt["kid"].startswith("k8s-")


def test_a_second_run_keeps_what_exists(run):
    _, first = run()
    out, second = run()
    assert first == second
    assert "created" not in out and out.count("kept") == len(first)
