"""Java classes with a Python meaning of their own.

hessian-lite writes these as ordinary objects of a known shape; this module
maps them to Python values and back (field orders as hessian-lite writes them)::

    java.math.BigDecimal          {value: "12.34"}           <-> decimal.Decimal
    java.util.UUID                {value: "..."}             <-> uuid.UUID
    ...java8.LocalDateHandle      {day, month, year}         <-> datetime.date
    ...java8.LocalTimeHandle      {nano, second, minute, hour} <-> datetime.time
    ...java8.LocalDateTimeHandle  {time, date}               <-> LocalDateTime (a datetime)
    ...java8.InstantHandle        {nanos, seconds}           <-> Instant (an aware datetime)
    ...java8.DurationHandle       {nanos, seconds}           <-> datetime.timedelta

(``...`` = ``com.alibaba.com.caucho.hessian.io.java8``; Java's serializers
replace each java.time value by a fresh handle object, never shared, so every
one counts as a new reference.) Python keeps microseconds: nanoseconds below
a microsecond are dropped when Java's value has them.

Like Java, BigDecimal and UUID objects are shared by identity. Reading follows
hessian-lite, checked against it by tests/java/hessian-vectors: BigDecimal
and UUID strings are parsed with Java's grammar (``new BigDecimal(String)``,
``UUID.fromString``), not Python's, and refused where Java throws; a
java.time handle Java's ``readResolve`` cannot resolve (February 30th, hour
25) is ``None``, as it is Java's null; a valid Java value outside Python's
range (year 10000) is a ``DecodeError``. Throwables live in ``_throwable``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
import unicodedata
import uuid
from collections.abc import Callable
from sys import getsizeof
from typing import TYPE_CHECKING, Any, NoReturn

from ._bound import convert_field
from ._containers import SLOTS
from ._encoder import register as register_writer
from ._errors import EncodeError, describe, known_types, shorten
from ._fields import converter, java_string
from ._objects import SPECIAL_READERS, begin_object, write_fields
from ._scalars import UTC
from ._text import write_str
from ._wrappers import Long

if TYPE_CHECKING:  # annotations only: the decoder imports this module's readers
    from ._decoder import Decoder
    from ._encoder import Encoder, Writer
    from ._objects import ClassDef

# factory(decoder, definition) -> reader(decoder) -> value, as _objects.SPECIAL_READERS holds them
ReaderFactory = Callable[["Decoder", "ClassDef"], Callable[["Decoder"], Any]]
# a java.time handle's readResolve: (decoder, fields by name, offset) -> the value, or None for Java's null
Resolve = Callable[["Decoder", dict[str, Any], int], Any]

__all__ = ["Instant", "LocalDateTime", "parse_big_decimal", "parse_uuid"]

_JAVA8 = "com.alibaba.com.caucho.hessian.io.java8."
LOCAL_DATE = _JAVA8 + "LocalDateHandle"
LOCAL_TIME = _JAVA8 + "LocalTimeHandle"
LOCAL_DATE_TIME = _JAVA8 + "LocalDateTimeHandle"
INSTANT = _JAVA8 + "InstantHandle"
DURATION = _JAVA8 + "DurationHandle"
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)


class LocalDateTime(_dt.datetime):
    """A naive datetime that travels as ``java.time.LocalDateTime`` (not java.util.Date)."""

    __slots__ = ()

    @classmethod
    def of(cls, value: _dt.datetime) -> LocalDateTime:
        return cls(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)


class Instant(_dt.datetime):
    """An aware UTC datetime that travels as ``java.time.Instant`` (not java.util.Date)."""

    __slots__ = ()

    @classmethod
    def of(cls, value: _dt.datetime) -> Instant:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return cls(
            value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, tzinfo=UTC
        )


known_types(dates=(LocalDateTime, Instant))

# ---------------------------------------------------------------- writers


def _write_string_value(java_class: str) -> Writer:
    def write(enc: Encoder, value: decimal.Decimal | uuid.UUID) -> None:
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise EncodeError(f"BigDecimal cannot hold {value}")
        if enc.seen(value):
            return
        begin_object(enc, java_class, ("value",))
        write_str(enc.buf, str(value))

    return write


def _write_date(enc: Encoder, value: _dt.date) -> None:
    write_fields(enc, LOCAL_DATE, {"day": value.day, "month": value.month, "year": value.year})


def _write_time(enc: Encoder, value: _dt.time) -> None:
    write_fields(
        enc,
        LOCAL_TIME,
        {"nano": value.microsecond * 1000, "second": value.second, "minute": value.minute, "hour": value.hour},
    )


def _write_local_date_time(enc: Encoder, value: _dt.datetime) -> None:
    write_fields(enc, LOCAL_DATE_TIME, {"time": value.time(), "date": value.date()})


def _write_instant(enc: Encoder, value: _dt.datetime) -> None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    write_fields(enc, INSTANT, {"nanos": delta.microseconds * 1000, "seconds": Long(seconds)})


def _write_duration(enc: Encoder, value: _dt.timedelta) -> None:
    seconds = value.days * 86400 + value.seconds
    write_fields(enc, DURATION, {"nanos": value.microseconds * 1000, "seconds": Long(seconds)})


register_writer(decimal.Decimal, _write_string_value("java.math.BigDecimal"))
register_writer(uuid.UUID, _write_string_value("java.util.UUID"))
register_writer(_dt.date, _write_date)
register_writer(_dt.time, _write_time)
register_writer(LocalDateTime, _write_local_date_time)
register_writer(Instant, _write_instant)
register_writer(_dt.timedelta, _write_duration)


# ---------------------------------------------------------------- parsing as Java parses


def java_digit(char: str, radix: int) -> int:
    """``Character.digit(char, radix)`` for one UTF-16 unit: -1 when it is not a digit.

    Java takes any Unicode decimal digit (category Nd: Arabic-Indic, fullwidth, ...)
    and the Latin letters, ASCII or fullwidth, as digits 10..35. A character outside
    the BMP is two units in Java, neither of them a digit."""
    code = ord(char)
    if code > 0xFFFF:
        return -1
    value = unicodedata.decimal(char, -1)
    if value < 0:
        for first in (0x41, 0x61, 0xFF21, 0xFF41):  # A, a, fullwidth A, fullwidth a
            if first <= code < first + 26:
                value = code - first + 10
                break
    return value if value < radix else -1


def parse_big_decimal(text: str) -> decimal.Decimal:
    """``new BigDecimal(text)``: ValueError where Java throws NumberFormatException.

    Java's grammar, narrower than Python's ``Decimal``: an optional sign, digits with
    at most one point (at least one digit), an optional ``e``/``E`` exponent of
    digits with an optional sign (at most 10 significant digits, an int); no
    spaces, underscores, ``Infinity`` or ``NaN``; the scale must fit an int."""
    plain = _ASCII_DECIMAL.fullmatch(text) if text.isascii() else None
    if plain is not None and len(plain.group("exponent") or "") <= 11:  # the common case, without a loop per digit
        whole, exponent = plain.group("whole", "exponent")
        fraction = plain.group("fraction") or plain.group("fraction2")
        scale = len(fraction or "") - int(exponent or 0)
        if -(1 << 31) <= int(exponent or 0) < (1 << 31) and -(1 << 31) <= scale < (1 << 31):
            digits_text = (whole or "") + (fraction or "")
            sign = "-" if text[0] == "-" and digits_text.strip("0") else ""
            return decimal.Decimal(f"{sign}{digits_text}E{-scale}")
    body = text[1:] if text[:1] in "+-" else text
    mantissa, marker, exponent_text = body, "", ""
    for index, char in enumerate(body):
        if char in "eE":
            mantissa, marker, exponent_text = body[:index], char, body[index + 1 :]
            break
    digits: list[str] = []
    fraction = -1  # digits after the point, once there is one
    for char in mantissa:
        if char == ".":
            if fraction >= 0:
                raise ValueError("more than one decimal point")
            fraction = 0
            continue
        value = java_digit(char, 10)
        if value < 0:
            raise ValueError(f"character {describe(char)} is neither a decimal digit, a point nor an exponent")
        digits.append(str(value))
        if fraction >= 0:
            fraction += 1
    if not digits:
        raise ValueError("no digits")
    exponent = 0
    if marker:
        sign = exponent_text[:1]
        numerals = exponent_text[1:] if sign in ("+", "-") else exponent_text
        if not numerals:
            raise ValueError("no exponent digits")
        values = [java_digit(char, 10) for char in numerals]
        if min(values) < 0:
            raise ValueError("exponent is not a number")
        while len(values) > 10 and values[0] == 0:
            values.pop(0)
        if len(values) > 10:
            raise ValueError("too many nonzero exponent digits")
        exponent = int("".join(map(str, values)))
        if sign == "-":
            exponent = -exponent
        if not -(1 << 31) <= exponent < (1 << 31):
            raise ValueError("exponent overflow")
    scale = max(fraction, 0) - exponent
    if not -(1 << 31) <= scale < (1 << 31):
        raise ValueError("scale out of range")
    sign = "-" if text[:1] == "-" and digits.count("0") != len(digits) else ""  # Java has no -0
    return decimal.Decimal(f"{sign}{''.join(digits)}E{-scale}")


_ASCII_DECIMAL = re.compile(
    r"[+-]?(?:(?P<whole>[0-9]+)\.?(?P<fraction>[0-9]*)|\.(?P<fraction2>[0-9]+))(?:[eE](?P<exponent>[+-]?[0-9]+))?"
)
_UUID_MASKS = (0xFFFFFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFFFFFF)


def parse_uuid(text: str) -> uuid.UUID:
    """``UUID.fromString(text)`` as Java 9+ parses it: ValueError where Java throws.

    At most 36 UTF-16 units, exactly five groups separated by four ``-``; each group
    a hex number (``Long.parseLong(group, 16)``: a leading ``+`` allowed, Unicode
    digits too, within a long), cut to its field's width (Java masks, it does not
    refuse, ``1ffffffff-...``). No braces, no ``urn:uuid:``, no dashless form."""
    if len(text.encode("utf-16-le", "surrogatepass")) > 72:
        raise ValueError("UUID string too large")
    groups = text.split("-")
    if len(groups) != 5:
        raise ValueError("not five groups separated by '-'")
    number = 0
    for group, mask in zip(groups, _UUID_MASKS, strict=True):
        numerals = group[1:] if group[:1] == "+" else group
        if not numerals:
            raise ValueError("an empty group")
        value = 0
        for char in numerals:
            digit = java_digit(char, 16)
            if digit < 0:
                raise ValueError(f"{describe(char)} is not a hex digit")
            value = value * 16 + digit
            if value >= 1 << 63:
                raise ValueError("a group beyond a Java long")
        number = (number << mask.bit_length()) | (value & mask)
    return uuid.UUID(int=number)


# ---------------------------------------------------------------- readers


def _string_value_reader(parse: Callable[[str], decimal.Decimal | uuid.UUID], one_field: bool) -> ReaderFactory:
    """BigDecimal (AbstractStringValueDeserializer) and UUID (UUIDDeserializer): the
    ``value`` field read as a String (readString's conversions), the object parsed from
    it, and registered as a reference *after* its fields, as hessian-lite does. Java's
    UUID reader reads one value whatever the definition says: more fields would
    misalign its stream, so such a definition is refused."""

    def factory(dec: Decoder, definition: ClassDef) -> Callable[[Decoder], Any]:
        names = definition.fields
        java_class = definition.name
        wrong_shape = one_field and names != ("value",)

        def read(dec: Decoder) -> decimal.Decimal | uuid.UUID:
            at = dec.pos
            if wrong_shape:
                dec.fail(f"{shorten(java_class)} must have exactly the field 'value', got {len(names)} field(s)", at)
            fields: dict[str, Any] = {}
            dec.fill(fields, names)
            raw = fields.get("value")
            text = java_string(raw)
            if text is None:
                dec.fail(f"{shorten(java_class)} needs a string value, got {describe(raw)}", at)
            try:
                result = parse(text)
            except ValueError as exc:
                dec.fail(f"{shorten(java_class)} {describe(text)} is not valid: {exc}", at)
            dec.refs.append(result)
            dec.charge(getsizeof(result) + SLOTS)
            return result

        return read

    return factory


def _handle_reader(field_types: dict[str, str], resolve: Resolve) -> ReaderFactory:
    """A java.time handle (an ordinary object to hessian-lite): registered as a reference
    before its fields, each field read as its Java type (``int``/``long``: readInt and
    readLong's conversions; a missing or null one is 0), then ``resolve`` as the handle's
    ``readResolve``, which gives Java null for a value java.time refuses."""
    converters = {name: converter((kind,)) for name, kind in field_types.items() if kind != "any"}

    def factory(dec: Decoder, definition: ClassDef) -> Callable[[Decoder], Any]:
        names = definition.fields

        def read(dec: Decoder) -> Any:
            at = dec.pos
            index = len(dec.refs)
            dec.refs.append(None)
            values: dict[str, Any] = {}
            dec.fill(values, names)
            args = {}
            for name in field_types:
                value = values.get(name)
                convert = converters.get(name)
                if convert is not None:
                    value = 0 if value is None else convert_field(dec, convert, value, at, name)
                args[name] = value
            result = resolve(dec, args, at)
            dec.refs[index] = result
            dec.charge(getsizeof(result) + SLOTS)
            return result

        return read

    return factory


def _out_of_range(dec: Decoder, what: str, at: int) -> NoReturn:
    dec.fail(f"{what} is a valid Java value outside Python's datetime range", at)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = (year & 3) == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _local_date(dec: Decoder, f: dict[str, Any], at: int) -> _dt.date | None:
    year, month, day = int(f["year"]), int(f["month"]), int(f["day"])
    if not (-999_999_999 <= year <= 999_999_999 and 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None  # LocalDate.of throws: the handle resolves to null
    if not 1 <= year <= 9999:
        _out_of_range(dec, f"LocalDate {year}-{month}-{day}", at)
    return _dt.date(year, month, day)


def _local_time(dec: Decoder, f: dict[str, Any], at: int) -> _dt.time | None:
    hour, minute, second, nano = int(f["hour"]), int(f["minute"]), int(f["second"]), int(f["nano"])
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60 and 0 <= nano < 1_000_000_000):
        return None
    return _dt.time(hour, minute, second, nano // 1000)


def _local_date_time(dec: Decoder, f: dict[str, Any], at: int) -> LocalDateTime | None:
    date, time = f["date"], f["time"]
    if type(date) is not _dt.date or type(time) is not _dt.time:
        return None  # LocalDateTime.of(null or not a LocalDate, ...) throws: null
    return LocalDateTime.combine(date, time)


_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_INSTANT_MIN, _INSTANT_MAX = -31557014167219200, 31556889864403199


def _seconds(f: dict[str, Any]) -> tuple[int, int] | None:
    """Java's ``addExact(seconds, floorDiv(nanos, 10**9))`` and ``floorMod``; None on overflow."""
    seconds = int(f["seconds"]) + int(f["nanos"]) // 1_000_000_000
    return (seconds, int(f["nanos"]) % 1_000_000_000) if _LONG_MIN <= seconds <= _LONG_MAX else None


def _instant(dec: Decoder, f: dict[str, Any], at: int) -> Instant | None:
    found = _seconds(f)
    if found is None or not _INSTANT_MIN <= found[0] <= _INSTANT_MAX:
        return None
    try:
        moment = _EPOCH + _dt.timedelta(seconds=found[0], microseconds=found[1] // 1000)
    except OverflowError:
        _out_of_range(dec, f"Instant of {found[0]} s", at)
    return Instant.of(moment)


def _duration(dec: Decoder, f: dict[str, Any], at: int) -> _dt.timedelta | None:
    found = _seconds(f)
    if found is None:
        return None
    try:
        return _dt.timedelta(seconds=found[0], microseconds=found[1] // 1000)
    except OverflowError:
        _out_of_range(dec, f"Duration of {found[0]} s", at)


SPECIAL_READERS.update(
    {
        "java.math.BigDecimal": _string_value_reader(parse_big_decimal, one_field=False),
        "java.util.UUID": _string_value_reader(parse_uuid, one_field=True),
        LOCAL_DATE: _handle_reader({"year": "int", "month": "int", "day": "int"}, _local_date),
        LOCAL_TIME: _handle_reader({"hour": "int", "minute": "int", "second": "int", "nano": "int"}, _local_time),
        LOCAL_DATE_TIME: _handle_reader({"date": "any", "time": "any"}, _local_date_time),
        INSTANT: _handle_reader({"seconds": "long", "nanos": "int"}, _instant),
        DURATION: _handle_reader({"seconds": "long", "nanos": "int"}, _duration),
    }
)
