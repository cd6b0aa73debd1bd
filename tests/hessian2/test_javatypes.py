"""BigDecimal, UUID, java.time, exceptions and generic maps (the Java-shaped extras)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

import hessian2
from hessian2 import (
    DecodeError,
    EncodeError,
    Instant,
    JavaEnum,
    JavaException,
    JavaGenericObject,
    JavaObject,
    LocalDateTime,
    Long,
    from_generic,
    to_generic,
)


class Level(JavaEnum, java_class="test.h2.Level"):
    LOW = 1
    HIGH = 2


@dataclass
class Leaf(JavaObject, java_class="test.h2.Leaf"):
    id: Long = Long(0)
    level: Level | None = None


@dataclass
class Tree(JavaObject, java_class="test.h2.Tree"):
    name: str = ""
    leaves: list[Leaf] = field(default_factory=list)
    weight: float = 0.0


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-12.3400"), Decimal("1E+30"), Decimal("1.5E-9")])
def test_big_decimal_keeps_scale(value):
    decoded = hessian2.loads(hessian2.dumps(value))
    assert str(decoded) == str(value)


def test_big_decimal_refuses_nan_and_garbage():
    with pytest.raises(EncodeError):
        hessian2.dumps(Decimal("NaN"))
    bad = hessian2.dumps(JavaGenericObject("java.math.BigDecimal", {"value": "12,5"}))
    with pytest.raises(DecodeError):
        hessian2.loads(bad)


def test_shared_decimal_is_one_reference_like_java():
    price = Decimal("9.99")
    assert hessian2.dumps([price, price]).endswith(b"Q\x91")


def test_uuid():
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert hessian2.loads(hessian2.dumps(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
        dt.time(23, 59, 59, 999999),
        LocalDateTime(2000, 2, 29, 12),
        dt.timedelta(days=-3, microseconds=1),
        Instant(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),
    ],
)
def test_java_time_round_trip(value):
    decoded = hessian2.loads(hessian2.dumps(value))
    assert decoded == value and type(decoded) is type(value)


def _local_date(day, month, year):
    handle = JavaGenericObject(
        "com.alibaba.com.caucho.hessian.io.java8.LocalDateHandle", {"day": day, "month": month, "year": year}
    )
    return hessian2.dumps(handle)


def test_java_time_java_refuses_is_none_like_java():
    # LocalDateHandle.readResolve catches LocalDate.of's exception and returns null
    assert hessian2.loads(_local_date(31, 2, 2024)) is None
    assert hessian2.loads(_local_date(29, 2, 2023)) is None
    assert hessian2.loads(_local_date(29, 2, 2024)) == dt.date(2024, 2, 29)


def test_java_time_valid_in_java_but_not_in_python_is_a_decode_error():
    with pytest.raises(DecodeError, match="outside Python"):
        hessian2.loads(_local_date(1, 1, 10000))


def test_java_exception_from_python_exception():
    def failing():
        raise ValueError("bad input")

    try:
        try:
            failing()
        except ValueError as exc:
            raise KeyError("lookup") from exc
    except KeyError as exc:
        java = JavaException.from_exception(exc)
    assert java.java_class == "java.lang.RuntimeException"
    assert java.cause is not None
    assert java.message == "KeyError: 'lookup'" and java.cause.message == "ValueError: bad input"
    assert java.cause.stack_trace[0].methodName == "failing"  # innermost frame first, as in Java
    decoded = hessian2.loads(hessian2.dumps(java))
    assert isinstance(decoded, JavaException) and decoded == java
    assert decoded.cause is not None and decoded.cause.cause is None
    with pytest.raises(JavaException):
        raise decoded


def test_custom_exception_fields_are_kept():
    wire = hessian2.dumps(JavaException("x", java_class="org.x.BizException", extra={"code": 7}))
    decoded = hessian2.loads(wire)
    assert decoded.java_class == "org.x.BizException" and decoded.extra == {"code": 7}
    assert hessian2.dumps(decoded) == wire


def test_to_generic_and_back():
    tree = Tree("t", [Leaf(Long(1), Level.HIGH), Leaf(Long(2))], 1.5)
    generic = to_generic(tree)
    assert generic == {
        "class": "test.h2.Tree",
        "name": "t",
        "weight": 1.5,
        "leaves": [
            {"class": "test.h2.Leaf", "id": 1, "level": "HIGH"},
            {"class": "test.h2.Leaf", "id": 2, "level": None},
        ],
    }
    back = from_generic(generic)
    assert back == tree and type(back.leaves[0].id) is Long
    assert from_generic({"name": "x", "weight": 2}, Tree) == Tree("x", [], 2.0)
    assert from_generic({"class": "org.unbound.X", "a": 1}) == JavaGenericObject("org.unbound.X", {"a": 1})


def test_from_generic_errors_name_the_path():
    with pytest.raises(EncodeError) as info:
        from_generic({"class": "test.h2.Tree", "leaves": [{"id": 1}, {"id": "two"}]})
    assert "$.leaves[1].id" in str(info.value)
    with pytest.raises(EncodeError):
        from_generic({"leaves": [{"level": "MEDIUM"}]}, Tree)


class OrderMissing(JavaException, java_class="org.test.javatypes.OrderMissingException"):
    """A bound exception with fields of its own."""

    orderId: Long = Long(0)
    reasons: list[str] = []  # noqa: RUF012 - a bound exception's field default; each instance gets a copy


def test_bound_exception_class_round_trip_with_typed_fields_and_cause():
    raised = OrderMissing("no order 7", orderId=7, cause=hessian2.IllegalArgumentException("bad id"))
    assert raised.java_class == "org.test.javatypes.OrderMissingException" and raised.reasons == []
    assert b"\x07orderId" in hessian2.dumps(raised) and b"\xe7" in hessian2.dumps(raised)  # 7 as a Java long
    decoded = hessian2.loads(hessian2.dumps(raised))
    assert type(decoded) is OrderMissing and (decoded.orderId, decoded.message) == (7, "no order 7")
    assert type(decoded.cause) is hessian2.IllegalArgumentException and decoded.cause.message == "bad id"
    assert str(decoded) == "org.test.javatypes.OrderMissingException: no order 7"
    with pytest.raises(TypeError, match="no field 'order'"):
        OrderMissing("x", order=1)


def test_standard_exceptions_are_bound_and_extendable():
    assert hessian2.UnsupportedOperationException("x").java_class == "java.lang.UnsupportedOperationException"
    assert hessian2.bound_classes()["java.lang.IllegalStateException"] is hessian2.IllegalStateException

    class Refused(hessian2.IllegalStateException, java_class="org.test.javatypes.Refused"):
        pass

    decoded = hessian2.loads(hessian2.dumps(Refused("later")))
    assert isinstance(decoded, hessian2.IllegalStateException) and type(decoded) is Refused


def test_long_prints_as_its_number_but_keeps_its_width():
    value = Long(42)
    printed = (str(value), f"{value}", f"{value:05d}", "%s" % value, repr(value))  # noqa: UP031 - old spelling too
    assert printed == ("42", "42", "00042", "42", "Long(42)")
    assert f"{hessian2.Double(1.5)} {hessian2.Float(0.25):.1f}" == "1.5 0.2"
    assert hessian2.dumps(value) != hessian2.dumps(42)  # still a Java long on the wire
