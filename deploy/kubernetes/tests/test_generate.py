"""The generator: its YAML reads back as what it wrote, its output is stable, and the committed files match it."""
import yaml

from kubernetes import generate, yamltext
from tests.conftest import DEPLOY

TRICKY = ["yes", "No", "on", "null", "~", "true", "1", "1.0", "0x1F", "1e3", "10m", "-c", "- x", "a: b", "#x",
          "x #y", "", " lead", "trail ", "multi\nline", "quote\"d", "back\\slash", "tab\there", "é ü", "@at",
          "*star", "&amp", "!tag", "%pct", "{x}", "[x]", "`tick`", "'single'", "2026-11-30", "12:30", "=", "?q",
          "|pipe", ">fold", "^$", r"^(shop\.events|amq\.default)$", "$(BROKER_PASSWORD)"]


def test_yaml_text_reads_back_as_the_same_values():
    value = {"strings": TRICKY, "numbers": [0, 7, -3, 2.5], "flags": [True, False, None], "empty": {},
             "none": [], "nested": [{"a": [{"b": {"c": ["d"]}}], "e": 1}, [1, [2]]],
             "keys": {k: k for k in TRICKY if k}}
    assert yaml.safe_load(yamltext.document(value)) == value


def test_every_generated_document_reads_back_as_generated(shop):
    for path, text in generate.render(shop).items():
        if path.endswith(".yaml"):
            docs = list(yaml.safe_load_all(text))
            assert docs and all(isinstance(d, dict) and d.get("kind") for d in docs), path


def test_rendering_is_deterministic_and_the_committed_files_are_current(shop):
    first, second = generate.render(shop), generate.render(shop)
    assert first == second
    stale = [path for path, text in first.items()
             if not (DEPLOY.parent / path).exists() or (DEPLOY.parent / path).read_text() != text]
    assert not stale, f"run `python3 deploy/generate.py`: {stale}"


def test_the_base_lists_every_file_of_its_own(shop):
    base = DEPLOY / "kubernetes" / "base"
    listed = set(yaml.safe_load(generate.render(shop)[f"{generate.BASE}/kustomization.yaml"])["resources"])
    on_disk = {str(p.relative_to(base)) for p in base.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert listed == on_disk
