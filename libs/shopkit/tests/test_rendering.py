"""compile_shape renders exactly what a serializer's .data gives, for every field kind it knows; it refuses the rest."""
import enum
import uuid
from functools import partial
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import models
from django.utils import timezone
from rest_framework import serializers

from shopkit.rendering import UnsupportedField, compile_shape, field_sources


def assert_same(serializer_class, instance):
    """The compiled rendering of ``instance`` is DRF's, value for value and type for type."""
    expected = serializer_class(instance).data
    rendered = compile_shape(serializer_class)(instance)
    assert rendered == expected
    assert [type(value) for value in rendered.values()] == [type(value) for value in expected.values()]
    assert list(rendered) == list(expected)  # the same keys in the same order: the same JSON bytes
    return rendered


def both_ways(**values):
    """The same values as an object's attributes and as a dict row's keys."""
    return [SimpleNamespace(**values), dict(values)]


# --- each field kind ----------------------------------------------------------------------------------------------

class Texts(serializers.Serializer):
    text = serializers.CharField()
    slug = serializers.SlugField()
    email = serializers.EmailField()
    pattern = serializers.RegexField(r"^a")


@pytest.mark.parametrize("value", ["plain", "", 12, Decimal("1.50"), uuid.UUID(int=5)])
@pytest.mark.parametrize("how", [0, 1])
def test_text_fields_render_as_drf_does(value, how):
    assert_same(Texts, both_ways(text=value, slug=value, email=value, pattern=value)[how])


class Numbers(serializers.Serializer):
    count = serializers.IntegerField()
    flag = serializers.BooleanField()
    maybe = serializers.BooleanField(allow_null=True)


@pytest.mark.parametrize(("count", "flag"), [(3, True), ("4", False), (True, "yes"), (7.9, 0), (0, "off"),
                                             (Decimal("2"), 1), (-1, "anything")])
def test_integers_and_booleans_render_as_drf_does(count, flag):
    for instance in both_ways(count=count, flag=flag, maybe="null"):
        assert_same(Numbers, instance)


class Ids(serializers.Serializer):
    verbose = serializers.UUIDField()
    hexed = serializers.UUIDField(format="hex")
    as_int = serializers.UUIDField(format="int")


def test_uuids_render_in_each_format_as_drf_does():
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    rendered = assert_same(Ids, SimpleNamespace(verbose=value, hexed=value, as_int=value))
    assert rendered["verbose"] == str(value) and rendered["hexed"] == value.hex
    assert_same(Ids, {"verbose": str(value), "hexed": value, "as_int": value})


class Money(serializers.Serializer):
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    rate = serializers.DecimalField(max_digits=8, decimal_places=4)
    whole = serializers.DecimalField(max_digits=5, decimal_places=0)
    up = serializers.DecimalField(max_digits=12, decimal_places=1, rounding="ROUND_UP")


@pytest.mark.parametrize("value", [
    Decimal("3"), Decimal("0.1"), Decimal("12.50"), Decimal("1.005"), Decimal("1.015"), Decimal("-0"),
    Decimal("-0.004"), Decimal("1E+2"), Decimal("0E-10"), Decimal("99.999"), 12.5, 7, "7.125", " 3.1 ",
])
def test_decimals_render_with_the_fields_places_as_drf_does(value):
    for instance in both_ways(price=value, rate=value, whole=value, up=value):
        assert_same(Money, instance)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN"),
                                   Decimal("123456789012.00"), Decimal("-1234567890.12"), Decimal("0.05")])
def test_special_and_overlong_decimals_render_or_fail_as_drf_does(value):
    instance = SimpleNamespace(price=value, rate=Decimal("1"), whole=Decimal("1"), up=Decimal("1"))
    try:
        expected = Money(instance).data
    except InvalidOperation:
        with pytest.raises(InvalidOperation):
            compile_shape(Money)(instance)
    else:
        assert compile_shape(Money)(instance) == expected


def test_decimals_round_in_the_threads_decimal_context_as_drf_does():
    with localcontext(rounding=ROUND_DOWN):
        rendered = assert_same(Money, SimpleNamespace(price=Decimal("1.009"), rate=Decimal("2.5"),
                                                      whole=Decimal("7.9"), up=Decimal("1.01")))
    assert rendered["price"] == "1.00" and rendered["whole"] == "7" and rendered["up"] == "1.1"


def test_a_decimal_too_long_for_its_field_fails_as_drf_does():
    instance = SimpleNamespace(price=Decimal("1"), rate=Decimal("12345.6"), whole=Decimal("1"), up=Decimal("1"))
    with pytest.raises(InvalidOperation):
        Money(instance).data
    with pytest.raises(InvalidOperation):
        compile_shape(Money)(instance)


class DecimalOptions(serializers.Serializer):
    as_number = serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=False)
    normalized = serializers.DecimalField(max_digits=8, decimal_places=3, normalize_output=True)
    any_places = serializers.DecimalField(max_digits=None, decimal_places=None)


@pytest.mark.parametrize("value", [Decimal("2.5"), Decimal("10.000"), Decimal("0.125")])
def test_decimal_options_render_as_drf_does(value):
    assert_same(DecimalOptions, SimpleNamespace(as_number=value, normalized=value, any_places=value))


class Times(serializers.Serializer):
    at = serializers.DateTimeField()
    berlin = serializers.DateTimeField(default_timezone=ZoneInfo("Europe/Berlin"))
    day = serializers.DateTimeField(format="%Y-%m-%d %H:%M")


UTC_NOON = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt_timezone.utc)


@pytest.mark.parametrize("value", [
    UTC_NOON, UTC_NOON.replace(microsecond=0), UTC_NOON.astimezone(ZoneInfo("America/New_York")),
    UTC_NOON.astimezone(dt_timezone(timedelta(hours=5, minutes=30))), UTC_NOON.replace(tzinfo=ZoneInfo("UTC")),
    datetime(2026, 3, 1, 12, 0),  # naive: made aware in the current zone, as DRF does
    "2026-03-01T12:00:00Z",  # a string is passed through
])
def test_datetimes_render_as_drf_does(value):
    for instance in both_ways(at=value, berlin=value, day=value):
        rendered = assert_same(Times, instance)
    if value is UTC_NOON:
        assert rendered["at"] == "2026-03-01T12:00:00.123456Z" and rendered["berlin"].endswith("+01:00")


def test_datetimes_follow_the_current_time_zone_as_drf_does():
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        rendered = assert_same(Times, SimpleNamespace(at=UTC_NOON, berlin=UTC_NOON, day=UTC_NOON))
    assert rendered["at"] == "2026-03-01T21:00:00.123456+09:00"
    assert compile_shape(Times)(SimpleNamespace(at=UTC_NOON, berlin=UTC_NOON, day=UTC_NOON))["at"].endswith("Z")


def test_datetimes_are_naive_without_time_zone_support(settings):
    settings.USE_TZ = False
    assert assert_same(Times, SimpleNamespace(at=UTC_NOON, berlin=UTC_NOON, day=UTC_NOON))["at"] == (
        "2026-03-01T12:00:00.123456")


class Colour(models.TextChoices):
    RED = "red", "Red"
    GREEN = "green", "Green"


class Number(enum.Enum):
    ONE = 1


class Choices(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "confirmed"])
    colour = serializers.ChoiceField(choices=Colour.choices)
    number = serializers.ChoiceField(choices=[(1, "one"), (2, "two")])


@pytest.mark.parametrize(("status", "colour", "number"), [
    ("pending", "red", 1), ("unknown", Colour.GREEN, "2"), ("", "", 3), ("confirmed", Colour.RED, Number.ONE),
])
def test_choices_render_as_drf_does(status, colour, number):
    for instance in both_ways(status=status, colour=colour, number=number):
        assert_same(Choices, instance)


# --- sources, nesting, lists, None --------------------------------------------------------------------------------

class Line(serializers.Serializer):
    sku = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)


class Address(serializers.Serializer):
    city = serializers.CharField()
    country = serializers.CharField(source="country_code")


class Order(serializers.Serializer):
    id = serializers.UUIDField()
    customer = serializers.CharField(source="customer.name")
    city = serializers.CharField(source="address.city")
    items = Line(source="lines", many=True)
    address = Address()
    whole = Address(source="*")
    shown = serializers.CharField(source="label")
    secret = serializers.CharField(write_only=True)
    category = serializers.SlugField(source="category__slug", allow_null=True)


def an_order(**changes):
    values = {
        "id": uuid.uuid4(), "customer": SimpleNamespace(name="Ada"),
        "address": SimpleNamespace(city="London", country_code="GB"),
        "lines": [SimpleNamespace(sku="A", price=Decimal("1.5")), SimpleNamespace(sku="B", price=Decimal("20"))],
        "city": "Paris", "country_code": "FR", "label": lambda: "called", "secret": "never shown",
        "category__slug": "coffee",
    }
    values.update(changes)
    return SimpleNamespace(**values)


def test_sources_nested_serializers_and_lists_render_as_drf_does():
    rendered = assert_same(Order, an_order())
    assert rendered["customer"] == "Ada" and rendered["city"] == "London" and rendered["shown"] == "called"
    assert rendered["items"][1] == {"sku": "B", "price": "20.00"} and "secret" not in rendered
    assert rendered["whole"] == {"city": "Paris", "country": "FR"}


def test_dict_rows_nested_dicts_and_keys_with_double_underscores_render_as_drf_does():
    row = {"id": str(uuid.uuid4()), "customer": {"name": "Ada"}, "address": {"city": "Rome", "country_code": "IT"},
           "lines": [{"sku": "A", "price": "3"}], "city": "Oslo", "country_code": "NO", "label": "plain",
           "category__slug": None}
    rendered = assert_same(Order, row)
    assert rendered["address"] == {"city": "Rome", "country": "IT"} and rendered["category"] is None


class Parcel(serializers.Serializer):
    id = serializers.UUIDField()
    at = serializers.DateTimeField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    flag = serializers.BooleanField()
    items = Line(source="lines", many=True)
    address = Address()
    owner = serializers.CharField(source="owner.name")


class Tagged(partial):
    """A partial of a subclass: DRF calls it too."""


@pytest.mark.parametrize("how", [0, 1])
def test_values_drf_calls_are_called_in_rows_and_objects_alike(how):
    def upper(text):
        return text.upper()

    values = {"text": lambda: "from a function", "slug": Tagged(upper, "from-a-partial"), "email": "e@example.com",
              "pattern": "plain"}
    rendered = assert_same(Texts, both_ways(**values)[how])
    assert rendered["text"] == "from a function" and rendered["slug"] == "FROM-A-PARTIAL"
    # a builtin: DRF refuses to guess its signature, and so does the compiled shape
    instance = both_ways(**{**values, "email": "e@example.com".upper})[how]
    with pytest.raises(Exception) as drf:
        Texts(instance).data
    with pytest.raises(type(drf.value)):
        compile_shape(Texts)(instance)


@pytest.mark.parametrize("how", [0, 1])
def test_none_renders_as_none_at_every_level(how):
    instance = both_ways(id=None, at=None, price=None, flag=None, lines=None, address=None,
                         owner=SimpleNamespace(name=None) if how == 0 else {"name": None})[how]
    assert set(assert_same(Parcel, instance).values()) == {None}


def test_a_dotted_source_through_none_fails_as_drf_does():
    instance = SimpleNamespace(id=None, at=None, price=None, flag=None, lines=None, address=None, owner=None)
    with pytest.raises(AttributeError):
        Parcel(instance).data
    with pytest.raises(AttributeError):
        compile_shape(Parcel)(instance)


def test_an_empty_list_renders_empty():
    assert assert_same(Order, an_order(lines=[]))["items"] == []


class Optional(serializers.Serializer):
    defaulted = serializers.CharField(default="fallback")
    nullable = serializers.CharField(allow_null=True)
    skippable = serializers.CharField(required=False)
    text = serializers.CharField()


def test_a_missing_value_is_defaulted_nulled_or_left_out_as_drf_does():
    for instance in both_ways(text="here"):
        rendered = assert_same(Optional, instance)
        assert rendered == {"defaulted": "fallback", "nullable": None, "text": "here"}


@pytest.mark.parametrize("instance", [SimpleNamespace(), {}])
def test_a_missing_required_value_fails_as_drf_does(instance):
    with pytest.raises((KeyError, AttributeError)) as drf:
        Line(instance).data
    with pytest.raises(type(drf.value)):
        compile_shape(Line)(instance)


def test_many_renders_a_list_as_drf_does():
    orders = [an_order(), an_order(lines=[])]
    assert compile_shape(Order, many=True)(orders) == Order(orders, many=True).data
    assert compile_shape(Order, many=True)([]) == []


class Note(serializers.Serializer):
    key = serializers.CharField()
    created_at = serializers.DateTimeField()


@pytest.mark.django_db
def test_a_manager_is_read_with_all_as_drf_does():
    from tests.kitapp.models import Note as NoteRow

    NoteRow.objects.create(key="a")
    NoteRow.objects.create(key="b")

    class Holder(serializers.Serializer):
        notes = Note(many=True)

    assert compile_shape(Note, many=True)(NoteRow.objects) == Note(NoteRow.objects, many=True).data
    rendered = assert_same(Holder, SimpleNamespace(notes=NoteRow.objects))
    assert [note["key"] for note in rendered["notes"]] == ["a", "b"]


def test_field_sources_are_the_columns_a_row_needs():
    assert field_sources(Order) == ["id", "customer.name", "address.city", "lines", "address", "*", "label",
                                    "category__slug"]


# --- what it refuses ----------------------------------------------------------------------------------------------

class ShoutingField(serializers.CharField):
    def to_representation(self, value):
        return str(value).upper()


class OwnReadField(serializers.CharField):
    def get_attribute(self, instance):
        return "mine"


class OwnRendering(serializers.Serializer):
    text = serializers.CharField()

    def to_representation(self, instance):
        return {"text": "mine"}


@pytest.mark.parametrize(("field", "words"), [
    (serializers.SerializerMethodField(), "Shape.field: no compiled rendering of SerializerMethodField"),
    (serializers.FloatField(), "no compiled rendering of FloatField"),
    (serializers.JSONField(), "JSONField"),
    (serializers.DateField(), "DateField"),
    (serializers.BigIntegerField(), "BigIntegerField renders its own way"),
    (serializers.ListField(child=serializers.CharField()), "ListField"),
    (serializers.ReadOnlyField(), "ReadOnlyField"),
    (serializers.MultipleChoiceField(choices=["a"]), "MultipleChoiceField"),
    (ShoutingField(), "ShoutingField renders its own way"),
    (OwnReadField(), "OwnReadField reads its value its own way"),
    (OwnRendering(), "Shape.field: OwnRendering has its own to_representation"),
    (serializers.ListSerializer(child=serializers.CharField()), "a list of CharField"),
    (Line(many=True, source="lines"), None),  # supported: the control
])
def test_a_field_kind_it_does_not_know_is_refused_when_compiling(field, words):
    shape = type("Shape", (serializers.Serializer,), {"field": field})
    if words is None:
        compile_shape(shape)
        return
    with pytest.raises(UnsupportedField, match=words):
        compile_shape(shape)


def test_a_serializer_with_its_own_rendering_is_refused():
    with pytest.raises(UnsupportedField, match="OwnRendering has its own to_representation"):
        compile_shape(OwnRendering)
