"""The catalog's tables: categories, products, stock levels and their audit trail, and order reservations."""
import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from catalog import constants


class Category(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.slug


class Product(models.Model):
    """A thing for sale. Never removed: DELETE sets ``deleted_at`` (and ``active`` false), so that reservations
    and the order service's replica keep pointing at something."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default=constants.DEFAULT_CURRENCY)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="products")
    image_url = models.URLField(max_length=500, blank=True, default="")
    active = models.BooleanField(default=True)
    # +1 on every change that product.* events report; consumers ignore an event older than what they hold.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(version__gte=1), name="product_version_positive"),
        ]
        indexes = [
            models.Index(fields=["active", "deleted_at", "name"], name="product_listed_by_name"),
            models.Index(fields=["active", "deleted_at", "price"], name="product_listed_by_price"),
            models.Index(fields=["active", "deleted_at", "created_at"], name="product_listed_by_created"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Stock(models.Model):
    """The stock level of one product. Its primary key is the product's, so locking stock rows "in primary-key
    order" is locking them in product-id order, the same in every transaction (no deadlocks)."""

    product = models.OneToOneField(Product, primary_key=True, on_delete=models.CASCADE, related_name="stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    # +1 on every change. With Product.version it makes the catalog's exact version number (see
    # catalog.selectors.catalog_state): every committed change raises the sum of both, in commit order.
    revision = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            # The database itself refuses an oversold product, whatever a bug upstream might try.
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def __str__(self):
        return f"{self.product_id}: {self.on_hand} on hand, {self.reserved} reserved"


class StockAdjustment(models.Model):
    """Audit trail of staff (and seed) changes to stock on hand: who, when, why, by how much."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="adjustments")
    delta = models.IntegerField()
    reason = models.CharField(max_length=200)
    on_hand_after = models.IntegerField()
    actor_id = models.CharField(max_length=100, blank=True, default="")
    actor_email = models.CharField(max_length=254, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(delta=0), name="stock_adjustment_not_zero")]

    def __str__(self):
        return f"{self.product_id} {self.delta:+d} ({self.reason})"


class Reservation(models.Model):
    """What one order holds. Keyed by order id, so every saga event about an order finds the same row whatever
    the order of arrival: a cancel that overtakes order.placed leaves a released row with no lines, and the
    late order.placed then reserves nothing. Its state changes only as ``constants.RESERVATION_TRANSITIONS``
    allows (``catalog.services``)."""

    order_id = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=20, choices=constants.RESERVATION_STATES)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.order_id} {self.state}"

    @property
    def cancelled_before_placed(self) -> bool:
        """The cancel overtook order.placed: released without ever holding a line (a placed order has one)."""
        return self.state == constants.RESERVATION_RELEASED and not self.lines.exists()


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reservation", "product"], name="reservation_line_once_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="reservation_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.reservation.order_id}: {self.quantity} × {self.product_id}"
