"""The shared settings: every default comes from one schema (shopkit.defaults), every value from the environment."""
from pathlib import Path

import pytest

from shopkit import defaults
from shopkit.auth import jwt_settings
from shopkit.messaging.config import consumer_settings, outbox_settings, rabbitmq_url
from shopkit.settings import service_settings


@pytest.fixture
def bare_environment(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith(("SHOP_", "RABBITMQ_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SHOP_DATA_DIR", str(tmp_path))  # the SQLite default would make ./var


def shared(**options):
    return service_settings(service="kit", base_dir=Path("."), apps=[], handlers="x.HANDLERS", **options)


def test_without_the_environment_every_group_is_its_schema_default(bare_environment):
    made = shared()
    assert made["SHOPKIT_RABBITMQ_URL"] == defaults.RABBITMQ_URL
    assert made["SHOPKIT_OUTBOX"] == defaults.OUTBOX
    assert made["SHOPKIT_CONSUMER"] == {"HANDLERS": "x.HANDLERS", **defaults.CONSUMER}
    assert made["SHOPKIT_JWT"] == defaults.JWT


def test_environment_values_are_typed_by_their_default(bare_environment, monkeypatch):
    monkeypatch.setenv("SHOP_OUTBOX_POLL_SECONDS", "0.25")
    monkeypatch.setenv("SHOP_CONSUMER_MAX_ATTEMPTS", "9")
    monkeypatch.setenv("SHOP_JWT_AUDIENCE", "elsewhere")
    made = shared(jwt={"KEY_LOADER": "a.b"})
    assert made["SHOPKIT_OUTBOX"]["POLL_SECONDS"] == 0.25
    assert made["SHOPKIT_CONSUMER"]["MAX_ATTEMPTS"] == 9
    assert made["SHOPKIT_JWT"]["AUDIENCE"] == "elsewhere" and made["SHOPKIT_JWT"]["KEY_LOADER"] == "a.b"


def test_the_readers_fill_what_a_setting_leaves_out_from_the_same_schema(settings):
    settings.SHOPKIT_OUTBOX = {"POLL_SECONDS": 5.0}
    settings.SHOPKIT_CONSUMER = {"HANDLERS": "x.HANDLERS"}
    settings.SHOPKIT_JWT = {}
    del settings.SHOPKIT_RABBITMQ_URL
    assert outbox_settings() == {**defaults.OUTBOX, "POLL_SECONDS": 5.0}
    assert consumer_settings() == {"HANDLERS": "x.HANDLERS", **defaults.CONSUMER}
    assert jwt_settings() == defaults.JWT
    assert rabbitmq_url() == defaults.RABBITMQ_URL
