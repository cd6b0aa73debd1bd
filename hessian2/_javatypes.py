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

Like Java, BigDecimal and UUID objects are shared by identity. A Java value
outside Python's range (year 10000, a bad date) is a ``DecodeError``.
Throwables live in ``_throwable``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import uuid

from ._encoder import register as register_writer
from ._errors import EncodeError
from ._objects import SPECIAL_READERS, begin_object, write_fields
from ._scalars import UTC
from ._text import write_str
from ._wrappers import Long

__all__ = ["Instant", "LocalDateTime"]

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


# ---------------------------------------------------------------- writers


def _write_string_value(java_class: str):
    def write(enc, value):
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise EncodeError(f"BigDecimal cannot hold {value}")
        if enc.seen(value):
            return
        begin_object(enc, java_class, ("value",))
        write_str(enc.buf, str(value))

    return write


def _write_date(enc, value: _dt.date) -> None:
    write_fields(enc, LOCAL_DATE, {"day": value.day, "month": value.month, "year": value.year})


def _write_time(enc, value: _dt.time) -> None:
    write_fields(
        enc,
        LOCAL_TIME,
        {"nano": value.microsecond * 1000, "second": value.second, "minute": value.minute, "hour": value.hour},
    )


def _write_local_date_time(enc, value: _dt.datetime) -> None:
    write_fields(enc, LOCAL_DATE_TIME, {"time": value.time(), "date": value.date()})


def _write_instant(enc, value: _dt.datetime) -> None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    write_fields(enc, INSTANT, {"nanos": delta.microseconds * 1000, "seconds": Long(seconds)})


def _write_duration(enc, value: _dt.timedelta) -> None:
    seconds = value.days * 86400 + value.seconds
    write_fields(enc, DURATION, {"nanos": value.microseconds * 1000, "seconds": Long(seconds)})


register_writer(decimal.Decimal, _write_string_value("java.math.BigDecimal"))
register_writer(uuid.UUID, _write_string_value("java.util.UUID"))
register_writer(_dt.date, _write_date)
register_writer(_dt.time, _write_time)
register_writer(LocalDateTime, _write_local_date_time)
register_writer(Instant, _write_instant)
register_writer(_dt.timedelta, _write_duration)


# ---------------------------------------------------------------- readers


def _converting_reader(convert):
    """A reader factory: read the fields into a dict, then ``convert(fields)``.

    The reference slot is taken before the fields are read (Java registers the
    handle object first) and filled with the converted value afterwards.
    """

    def factory(dec, definition):
        names = definition.fields
        java_class = definition.name

        def read(dec):
            at = dec.pos
            index = len(dec.refs)
            dec.refs.append(None)
            value = dec.value
            fields = {name: value() for name in names}
            try:
                result = convert(fields)
            except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
                dec.fail(f"bad {java_class} {fields!r}: {exc}", at)
            dec.refs[index] = result
            return result

        return read

    return factory


def _to_decimal(fields):
    text = fields.get("value")
    if not isinstance(text, str):
        raise ValueError("value must be a string")
    result = decimal.Decimal(text)
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def _to_uuid(fields):
    return uuid.UUID(fields["value"])


def _int(fields, name) -> int:
    value = fields.get(name, 0)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer")
    return value


def _to_date(fields):
    return _dt.date(_int(fields, "year"), _int(fields, "month"), _int(fields, "day"))


def _to_time(fields):
    return _dt.time(_int(fields, "hour"), _int(fields, "minute"), _int(fields, "second"), _int(fields, "nano") // 1000)


def _to_local_date_time(fields):
    date, time = fields.get("date"), fields.get("time")
    if type(date) is not _dt.date or type(time) is not _dt.time:
        raise TypeError("date and time must be LocalDate and LocalTime handles")
    return LocalDateTime.combine(date, time)


def _to_instant(fields):
    moment = _EPOCH + _dt.timedelta(seconds=_int(fields, "seconds"), microseconds=_int(fields, "nanos") // 1000)
    return Instant.of(moment)


def _to_duration(fields):
    return _dt.timedelta(seconds=_int(fields, "seconds"), microseconds=_int(fields, "nanos") // 1000)


SPECIAL_READERS.update(
    {
        "java.math.BigDecimal": _converting_reader(_to_decimal),
        "java.util.UUID": _converting_reader(_to_uuid),
        LOCAL_DATE: _converting_reader(_to_date),
        LOCAL_TIME: _converting_reader(_to_time),
        LOCAL_DATE_TIME: _converting_reader(_to_local_date_time),
        INSTANT: _converting_reader(_to_instant),
        DURATION: _converting_reader(_to_duration),
    }
)
