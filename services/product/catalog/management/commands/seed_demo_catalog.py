"""`manage.py seed_demo_catalog`: a demo catalog (categories, ~50 products with stock) for an empty database."""
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from catalog import services
from catalog.models import Category, Product
from shopkit.conf import env_bool

CATEGORIES = [
    ("coffee", "Coffee"),
    ("tea", "Tea"),
    ("brewing", "Brewing gear"),
    ("mugs", "Mugs & cups"),
    ("snacks", "Snacks"),
]

# (category, name, description); prices and stock follow from the position so the seed is reproducible.
PRODUCTS = {
    "coffee": [
        ("Ethiopia Yirgacheffe", "Washed Arabica, notes of jasmine and bergamot. 250 g beans."),
        ("Colombia Huila", "Caramel sweetness, red apple acidity. 250 g beans."),
        ("Brazil Cerrado", "Nutty and chocolatey, a forgiving espresso base. 250 g beans."),
        ("Kenya AA Nyeri", "Blackcurrant and grapefruit, bright and juicy. 250 g beans."),
        ("Guatemala Antigua", "Cocoa, spice and a smoky finish. 250 g beans."),
        ("Sumatra Mandheling", "Earthy, full-bodied, low acidity. 250 g beans."),
        ("House Espresso Blend", "Dark roast for milk drinks. 1 kg beans."),
        ("Decaf Swiss Water", "Chemical-free decaf, milk chocolate notes. 250 g beans."),
        ("Costa Rica Tarrazu", "Honey process, clean and sweet. 250 g beans."),
        ("Rwanda Bourbon", "Red berries and black tea. 250 g beans."),
        ("Cold Brew Coarse Grind", "Pre-ground for 12-hour cold brew. 500 g."),
        ("Single Origin Sampler", "Four 100 g bags from four continents."),
    ],
    "tea": [
        ("Darjeeling First Flush", "Light, floral, muscatel. 100 g loose leaf."),
        ("Assam Breakfast", "Malty and strong, takes milk well. 100 g loose leaf."),
        ("Sencha Green", "Grassy Japanese green tea. 100 g loose leaf."),
        ("Jasmine Pearls", "Hand-rolled green tea scented with jasmine. 50 g."),
        ("Earl Grey Supreme", "Black tea with bergamot and cornflower. 100 g."),
        ("Rooibos Vanilla", "Caffeine-free South African red bush. 100 g."),
        ("Matcha Ceremonial", "Stone-ground shade-grown green tea. 30 g tin."),
        ("Oolong Tieguanyin", "Roasted, orchid aroma, several infusions. 50 g."),
        ("Chamomile Flowers", "Whole blossoms for an evening cup. 50 g."),
        ("Chai Masala", "Black tea with cardamom, ginger and clove. 100 g."),
    ],
    "brewing": [
        ("Pour-over Dripper", "Ceramic cone dripper, size 02."),
        ("Paper Filters (100)", "Unbleached filters for size 02 drippers."),
        ("French Press 1 L", "Borosilicate glass, stainless steel frame."),
        ("Gooseneck Kettle", "0.9 L, precise pouring spout."),
        ("Burr Grinder", "Hand grinder with conical steel burrs."),
        ("Digital Scale", "0.1 g resolution with a built-in timer."),
        ("AeroPress", "Fast immersion brewer, travel friendly."),
        ("Moka Pot 6 Cup", "Stovetop espresso maker, aluminium."),
        ("Cold Brew Jar", "1.5 L jar with a fine mesh filter."),
        ("Milk Frother", "Handheld, battery powered."),
        ("Tea Infuser Ball", "Stainless steel mesh, with chain."),
        ("Glass Teapot 800 ml", "With removable infuser."),
    ],
    "mugs": [
        ("Stoneware Mug", "Hand-glazed, 350 ml."),
        ("Double-wall Glass", "Keeps drinks hot and hands cool, 250 ml."),
        ("Espresso Cups (2)", "Porcelain, 80 ml, with saucers."),
        ("Travel Tumbler", "Vacuum insulated, 450 ml, leak-proof lid."),
        ("Latte Bowl", "Wide French-style bowl, 400 ml."),
        ("Enamel Camp Mug", "Lightweight, 300 ml."),
        ("Tea Cup and Saucer", "Bone china, 200 ml."),
        ("Cappuccino Cup", "Thick-walled porcelain, 180 ml."),
    ],
    "snacks": [
        ("Almond Biscotti", "Twice-baked Italian biscuits, 200 g."),
        ("Dark Chocolate 70%", "Single-origin bar, 100 g."),
        ("Shortbread Tin", "Butter shortbread, 300 g."),
        ("Stroopwafels (8)", "Caramel-filled Dutch waffles."),
        ("Salted Caramels", "Hand-cut, 150 g."),
        ("Ginger Snaps", "Crisp and spicy, 250 g."),
        ("Granola Bites", "Oats, honey and nuts, 200 g."),
        ("Matcha Cookies", "Buttery, with ceremonial matcha, 150 g."),
    ],
}
PRICE_BASE = {"coffee": Decimal("9.50"), "tea": Decimal("6.90"), "brewing": Decimal("14.00"),
              "mugs": Decimal("11.00"), "snacks": Decimal("3.90")}


class Command(BaseCommand):
    help = "Seed a demo catalog (categories, ~50 products with stock), only if the catalog is empty."

    def handle(self, *args, **options):
        if not env_bool("SHOP_DEMO_DATA", True):  # containers run every seed command; this switch says no
            self.stdout.write("SHOP_DEMO_DATA is off: nothing seeded")
            return
        if Product.objects.exists() or Category.objects.exists():
            self.stdout.write("catalog not empty: nothing seeded")
            return
        with transaction.atomic():
            Category.objects.bulk_create(Category(slug=slug, name=name) for slug, name in CATEGORIES)
            created = 0
            for slug, items in PRODUCTS.items():
                for index, (name, description) in enumerate(items):
                    services.product_create(
                        sku=f"{slug[:3].upper()}-{index + 1:03d}",
                        name=name,
                        description=description,
                        price=PRICE_BASE[slug] + Decimal(index * 175 % 1300) / 100,
                        category=slug,
                        # A few sold out, a few scarce, most plentiful: every storefront state is visible.
                        initial_stock=(0 if index % 11 == 5 else 3 if index % 7 == 3 else 20 + index * 5 % 80),
                        actor_id="seed",
                        actor_email="seed_demo_catalog",
                    )
                    created += 1
        self.stdout.write(f"seeded {len(CATEGORIES)} categories and {created} products "
                          "(product.created events are in the outbox)")
