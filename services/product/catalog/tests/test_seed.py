"""The demo catalog seed: about fifty products with stock, once, announced to the other services."""
import pytest
from django.core.management import call_command

from catalog.models import Category, Product, Stock
from shopkit import events
from shopkit.testing import outbox_events

pytestmark = pytest.mark.django_db


def test_seed_fills_an_empty_catalog_and_announces_every_product(capsys):
    call_command("seed_demo_catalog")
    assert "seeded 5 categories and 50 products" in capsys.readouterr().out
    assert Category.objects.count() == 5 and Product.objects.count() == 50
    assert Product.objects.filter(category__isnull=True).count() == 0
    assert len(outbox_events(events.PRODUCT_CREATED)) == 50
    levels = list(Stock.objects.values_list("on_hand", flat=True))
    assert 0 in levels and max(levels) > 20  # sold-out and plentiful products both on show


def test_seed_leaves_a_catalog_that_has_anything_in_it_alone(capsys, make_product):
    make_product()
    call_command("seed_demo_catalog")
    assert "nothing seeded" in capsys.readouterr().out
    assert Product.objects.count() == 1 and not Category.objects.exists()


def test_seeding_twice_seeds_once():
    call_command("seed_demo_catalog")
    call_command("seed_demo_catalog")
    assert Product.objects.count() == 50


def test_seed_does_nothing_when_demo_data_is_switched_off(capsys, monkeypatch):
    monkeypatch.setenv("SHOP_DEMO_DATA", "0")
    call_command("seed_demo_catalog")
    assert "SHOP_DEMO_DATA is off" in capsys.readouterr().out
    assert not Product.objects.exists()
