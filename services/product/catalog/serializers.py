"""Input validation of the catalog's write routes, and the output shapes the OpenAPI document describes."""
from decimal import Decimal

from rest_framework import serializers

from catalog import constants

# Fields of the product representation that a client may send back unchanged (a form that PATCHes what it
# fetched): ignored, never written. Anything else unknown is a 400, so a typo never passes silently.
READ_ONLY_PRODUCT_FIELDS = {"id", "available", "created_at", "updated_at"}


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (besides ``ignored_fields``), instead of silently dropping them."""

    ignored_fields: set = set()

    def validate(self, attrs):
        if isinstance(self.initial_data, dict):
            unknown = set(self.initial_data) - set(self.fields) - self.ignored_fields
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class ProductWriteSerializer(StrictSerializer):
    ignored_fields = READ_ONLY_PRODUCT_FIELDS

    sku = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", max_length=64,
                                 error_messages={"invalid": "Letters, digits and . _ / - only."})
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    category = serializers.SlugField(max_length=50, allow_null=True, required=False,
                                     help_text="A category slug, or null.")
    image_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    active = serializers.BooleanField(required=False)

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not value.isascii() or not value.isalpha():
            raise serializers.ValidationError("An ISO 4217 code: three letters.")
        return value


class ProductCreateSerializer(ProductWriteSerializer):
    initial_stock = serializers.IntegerField(min_value=0, max_value=constants.MAX_STOCK_DELTA, required=False,
                                             help_text="Stock on hand to start with (recorded as an adjustment).")


class ProductUpdateSerializer(ProductWriteSerializer):
    """Every field optional (PATCH); ``version``, when sent, must be the current one (else 409)."""

    version = serializers.IntegerField(min_value=1, required=False,
                                       help_text="The version the change is based on; 409 if it is stale.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class StockAdjustmentSerializer(StrictSerializer):
    delta = serializers.IntegerField(min_value=-constants.MAX_STOCK_DELTA, max_value=constants.MAX_STOCK_DELTA,
                                     help_text="Change of stock on hand; not zero.")
    reason = serializers.CharField(max_length=200)

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class CategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class ProductSerializer(serializers.Serializer):
    """The product as the API shows it (DESIGN.md §5): the one definition of its shape. The OpenAPI document
    (and the frontend's generated types) describe it; ``catalog.selectors`` reads the columns named by each
    field's ``source`` and renders rows by it (``selectors.product_json``, a fast path checked against this
    serializer's own output in the tests)."""

    id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    category = serializers.SlugField(source="category__slug", allow_null=True, help_text="A category slug.")
    image_url = serializers.CharField()
    active = serializers.BooleanField()
    available = serializers.IntegerField(help_text="On hand minus reserved.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="+1 per change; send it back with a PATCH.")


class ProductListQuerySerializer(serializers.Serializer):
    """The product list's query parameters; every bad one is reported at once in a 400 problem."""

    search = serializers.CharField(max_length=constants.MAX_SEARCH_LENGTH, required=False, allow_blank=True,
                                   help_text="Case-insensitive match in name, sku or description.")
    category = serializers.CharField(required=False, allow_blank=True, help_text="A category slug.")
    min_price = serializers.DecimalField(max_digits=None, decimal_places=None, min_value=Decimal("0"),
                                         max_value=constants.MAX_PRICE, required=False, allow_null=True,
                                         help_text="Lowest price, a decimal.")
    max_price = serializers.DecimalField(max_digits=None, decimal_places=None, min_value=Decimal("0"),
                                         max_value=constants.MAX_PRICE, required=False, allow_null=True,
                                         help_text="Highest price, a decimal.")
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None,
                                        help_text="Only products with (true) or without (false) stock available.")
    ordering = serializers.ChoiceField(choices=list(constants.ORDERINGS), required=False,
                                       default=constants.DEFAULT_ORDERING, help_text="Default: name.")
    include_inactive = serializers.BooleanField(required=False, default=False,
                                                help_text="Staff only: list inactive products too.")

    def to_internal_value(self, data):
        # An empty parameter (`?in_stock=`) means "not given", as a form's empty field does.
        return super().to_internal_value({k: v.strip() for k, v in data.items() if v.strip()})

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["Must not exceed max_price."]})
        return attrs


class StockLevelsSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
