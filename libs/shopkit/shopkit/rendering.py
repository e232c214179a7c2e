"""Output serializers compiled once into plain functions: object or row → the dict DRF's ``.data`` would give.

A serializer stays the one definition of a shape (the OpenAPI document describes it); rendering through it
costs a deep copy of every declared field per instance (nested serializers included) and several calls per
field and row. ``compile_shape`` reads the shape once, at import, and returns a function that renders the same
dict with the fields' own rules: the common values (a str, an aware datetime, a Decimal, a row's key or an
object's attribute) on a fast path, anything else handed to the bound DRF field itself, so an unusual value
renders exactly as DRF renders it. A field kind it does not know is refused when compiling (UnsupportedField),
never rendered approximately. The settings a field reads (``COERCE_DECIMAL_TO_STRING``, ``DATETIME_FORMAT``)
are read when compiling; the current time zone (``timezone.activate``) once per call, where DRF reads it per
value.
"""
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from decimal import Decimal, getcontext
from functools import partial
from operator import attrgetter, itemgetter
from types import BuiltinFunctionType, FunctionType, MethodType
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import fields, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

__all__ = ["UnsupportedField", "compile_shape", "field_sources"]


class UnsupportedField(TypeError):
    """A serializer field ``compile_shape`` cannot render exactly as DRF does (a kind it does not know, or one
    that overrides how it reads or renders its value)."""


def compile_shape(serializer: type[serializers.Serializer] | serializers.Serializer, *, many: bool = False
                  ) -> Callable:
    """A function rendering one object (attributes) or mapping (keys) as ``serializer(instance).data`` does, or
    with ``many`` a list (or related manager) of them as ``serializer(items, many=True).data`` does.

    Supported: CharField and its subclasses that render as it does (SlugField, RegexField, EmailField, …),
    IntegerField, BooleanField, UUIDField, DecimalField, DateTimeField, ChoiceField, nested serializers and
    ``many=True`` lists of them (a related manager is read with ``.all()``, so prefetched rows are used), with
    ``source=`` (dotted, ``*``, keys of dict rows), ``None`` as ``None``, and write-only fields left out.
    Raises UnsupportedField for anything else (a SerializerMethodField, relations, a custom ``to_representation``).
    """
    instance = serializer() if isinstance(serializer, type) else serializer
    render, zoned = _compile_serializer(instance, type(instance).__name__)
    # The current time zone is per request (timezone.activate) and costs microseconds to read: once per call.
    zone = _current_zone if zoned else _no_zone
    if many:
        def render_many(items) -> list[dict]:
            current = zone()
            return [render(item, current) for item in (items.all() if isinstance(items, BaseManager) else items)]
        return render_many

    def render_one(item) -> dict:
        return render(item, zone())
    return render_one


def field_sources(serializer: type[serializers.Serializer] | serializers.Serializer) -> list[str]:
    """The ``source`` of every field ``serializer`` renders, in order: the columns a dict row needs."""
    instance = serializer() if isinstance(serializer, type) else serializer
    return [field.source for field in instance.fields.values() if not field.write_only]


def _current_zone():
    # DateTimeField.default_timezone()
    return timezone.get_current_timezone() if settings.USE_TZ else None


def _no_zone():
    return None


# --- compiling ----------------------------------------------------------------------------------------------------
# A compiled renderer is (function, zoned): a zoned one is passed the current time zone as a second argument.

# What DRF's is_simple_callable looks at (it calls functions and methods without arguments, refuses builtins):
# only such values go back to the field; a related manager is callable too, and is read as it is.
_CALLED_BY_DRF = (FunctionType, MethodType, BuiltinFunctionType, partial)
# Types a value read from a row or model can have that DRF never calls: a row of only these needs no look.
_PLAIN = frozenset({str, int, bool, float, Decimal, datetime, date, time, timedelta, UUID, type(None), dict, list})


def _compile_serializer(serializer: serializers.Serializer, path: str) -> tuple[Callable, bool]:
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        raise UnsupportedField(f"{path}: {type(serializer).__name__} has its own to_representation()")
    plan = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        where = f"{path}.{name}"
        if type(field).get_attribute is not fields.Field.get_attribute:
            raise UnsupportedField(f"{where}: {type(field).__name__} reads its value its own way")
        attr = field.source_attrs[0] if len(field.source_attrs) == 1 else None  # else dotted or "*": DRF reads it
        convert, zoned, same = _converter(field, where)
        plan.append((name, attr, field, convert, zoned, same))
    plan = tuple(plan)
    zoned_shape = any(zoned for *_, zoned, _ in plan)

    def render_each(instance, zone=None) -> dict:
        # Field by field, as Serializer.to_representation goes: right for every instance, the fast path or not.
        mapping = isinstance(instance, Mapping)
        out = {}
        for name, attr, field, convert, zoned, _ in plan:
            if attr is None:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            else:
                try:
                    value = instance[attr] if mapping else getattr(instance, attr)
                    if isinstance(value, _CALLED_BY_DRF):
                        value = field.get_attribute(instance)
                except (KeyError, AttributeError, ObjectDoesNotExist):
                    # Missing: the field's own rules decide (its default, None, left out, or DRF's error).
                    try:
                        value = field.get_attribute(instance)
                    except SkipField:
                        continue
            if value is None:
                out[name] = None
            elif zoned:
                out[name] = convert(value, zone)
            else:
                out[name] = convert(value)
        return out

    if any(attr is None for _, attr, *_ in plan) or not plan:
        return render_each, zoned_shape
    # The fast path: every field reads one key or attribute. All of them are read in one C call; a row that
    # misses one, or holds a value DRF would call, is rendered field by field instead.
    names = tuple(name for name, *_ in plan)
    steps = tuple((convert, zoned, same) for *_, convert, zoned, same in plan)
    attrs = [attr for _, attr, *_ in plan]
    by_key, by_attribute = itemgetter(*attrs), attrgetter(*attrs)
    single = len(plan) == 1  # itemgetter and attrgetter of one name give the value itself, not a tuple

    def render(instance, zone=None) -> dict:
        try:
            values = by_key(instance) if isinstance(instance, Mapping) else by_attribute(instance)
        except (KeyError, AttributeError, ObjectDoesNotExist):
            return render_each(instance, zone)
        if single:
            values = (values,)
        if not _PLAIN.issuperset(map(type, values)) and any(isinstance(value, _CALLED_BY_DRF) for value in values):
            return render_each(instance, zone)
        return {name: value if type(value) is same else None if value is None else
                convert(value, zone) if zoned else convert(value)
                for name, (convert, zoned, same), value in zip(names, steps, values)}

    return render, zoned_shape


def _converter(field: fields.Field, where: str) -> tuple[Callable, bool, type | None]:
    """How ``field`` renders a value that is not None: (convert, zoned, the type of value it renders unchanged)."""
    if isinstance(field, serializers.ListSerializer):
        if type(field).to_representation is not serializers.ListSerializer.to_representation:
            raise UnsupportedField(f"{where}: {type(field).__name__} has its own to_representation()")
        if not isinstance(field.child, serializers.Serializer):
            raise UnsupportedField(f"{where}: a list of {type(field.child).__name__}, not of a serializer")
        child, zoned = _compile_serializer(field.child, where)

        def render_list(data, zone=None) -> list:
            return [child(item, zone) for item in (data.all() if isinstance(data, BaseManager) else data)]
        return render_list, zoned, None
    if isinstance(field, serializers.Serializer):
        return (*_compile_serializer(field, where), None)
    for kind in type(field).__mro__:
        make = _FIELD_KINDS.get(kind)
        if make is not None:
            if type(field).to_representation is not kind.to_representation:
                raise UnsupportedField(f"{where}: {type(field).__name__} renders its own way")
            return (*make(field), _UNCHANGED.get(kind))
    raise UnsupportedField(f"{where}: no compiled rendering of {type(field).__name__}")


# --- the field kinds: DRF's to_representation, with a fast path for the values a database row holds ---------------
# Each returns (convert, zoned), like a compiled serializer.

def _as_text(field):
    return str, False


def _as_integer(field):
    return int, False


def _as_boolean(field):
    def render(value):
        if value is True or value is False:
            return value
        return field.to_representation(value)  # "yes", 0, the null words: DRF's tables
    return render, False


def _as_uuid(field):
    return (str if field.uuid_format == "hex_verbose" else field.to_representation), False


def _as_choice(field):
    choices = dict(field.choice_strings_to_values)

    def render(value):
        if type(value) is str:  # an Enum (TextChoices) or another type takes DRF's own way
            return choices.get(value, value) if value else value
        return field.to_representation(value)
    return render, False


def _as_decimal(field):
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    places, digits, rounding = field.decimal_places, field.max_digits, field.rounding
    if not coerce or field.localize or field.normalize_output or places is None:
        return field.to_representation, False
    exponent = Decimal(".1") ** places
    point_at = -places - 1  # where a text with `places` places has its point

    def render(value):
        if type(value) is Decimal:
            # A finite Decimal that already has `places` places and fits in `digits`: quantizing changes nothing,
            # and its str() (no exponent for such a value) is the text DRF formats.
            text = str(value)
            if ("E" not in text and (text[point_at:point_at + 1] == "." if places else "." not in text)
                    and (digits is None or len(text) - (places > 0) - (text[0] == "-") <= digits)
                    and value.is_finite()):
                return text
        else:
            value = Decimal(str(value).strip())
        # DecimalField.quantize: the thread's decimal context, its precision set to max_digits
        context = getcontext().copy()
        if digits is not None:
            context.prec = digits
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"
    return render, False


_ZONE_UTC = ZoneInfo("UTC")


def _as_datetime(field):
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() != fields.ISO_8601:
        return field.to_representation, False
    # DateTimeField.enforce_timezone: the field's own zone if it has one, else the current one (given per call)
    fixed = field.timezone if hasattr(field, "timezone") else None
    if hasattr(field, "timezone") and fixed is None:
        return field.to_representation, False

    def render(value, zone):
        zone = fixed or zone
        if type(value) is not datetime or value.tzinfo is None or zone is None:
            return field.to_representation(value)  # naive, a string, a subclass, USE_TZ off: DRF's own way
        held = value.tzinfo
        if held is not zone and not ((zone is _ZONE_UTC or zone is dt_timezone.utc)
                                     and (held is dt_timezone.utc or held is _ZONE_UTC)):  # else the same text
            value = value.astimezone(zone)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return render, True


# What str(), int() and the boolean tables give back unchanged: such a value skips the call.
_UNCHANGED = {fields.CharField: str, fields.IntegerField: int, fields.BooleanField: bool}
# Looked up along a field's class hierarchy: a subclass counts only while it renders as its base does.
_FIELD_KINDS = {
    fields.CharField: _as_text,
    fields.IntegerField: _as_integer,
    fields.BooleanField: _as_boolean,
    fields.UUIDField: _as_uuid,
    fields.ChoiceField: _as_choice,
    fields.DecimalField: _as_decimal,
    fields.DateTimeField: _as_datetime,
}
