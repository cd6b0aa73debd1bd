"""Services whose Java API exercises what ``java-api`` must get right (tests/provider/javaapi).

Every default Java can state, a nested class in an unbound outer class (``Shape$Point``), a
POJO named like a JDK class it also uses (``Date`` beside ``java.util.Date``), POJO and
exception inheritance, a Java keyword as a parameter name, Javadoc that would break a naive
writer (``*/``, a backslash-u, HTML, ``@``), an overload, a group and a version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from dubbo_recsys.provider.javatype import Java
from dubbo_recsys.provider.service import Service, java_method
from hessian2 import Byte, Char, Float, JavaEnum, JavaException, JavaObject, Long, Short

PACKAGE = "org.dubborecsys.test.javaapi"


class Mood(JavaEnum, java_class=f"{PACKAGE}.Mood"):
    """How it *feels*: <b>HAPPY</b> or not."""

    HAPPY = 1
    SAD = 2


@dataclass
class Point(JavaObject, java_class=f"{PACKAGE}.Shape$Point"):
    x: int = 0
    y: int = 0


@dataclass
class Date(JavaObject, java_class=f"{PACKAGE}.Date"):
    """Our own Date; ``when`` is a java.util.Date."""

    when: datetime | None = None


@dataclass
class Base(JavaObject, java_class=f"{PACKAGE}.Base"):
    id: Long = Long(0)


@dataclass
class Defaults(Base, java_class=f"{PACKAGE}.Defaults"):
    """Every default Java can state.

    A ``*/`` ends no comment here, a \\u0041 is no escape, and @param is text."""

    count: int = 10
    big: Long = Long(1 << 40)
    small: Short = Short(-3)
    tiny: Byte = Byte(7)
    ratio: Float = Float(1.5)
    precise: float = 2.25
    flag: bool = True
    letter: Char = Char("\u00e9")
    name: str = 'say "hi"\n'
    """A field's docstring: {@code braces} & <tags>."""
    mood: Mood | None = Mood.SAD
    tags: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    ids: set[Long] = field(default_factory=set)
    point: Point = field(default_factory=Point)
    raw: Annotated[list[int], Java("int[]")] = field(default_factory=list)
    today: Date | None = None


class Oops(JavaException, java_class=f"{PACKAGE}.Oops"):
    """Something went wrong."""

    code: int = 7
    details: list[str] | None = None


class BigOops(Oops, java_class=f"{PACKAGE}.BigOops"):
    pass


class SampleService(Service, interface=f"{PACKAGE}.SampleService", version="3.0", group="g1"):
    """The sample service: <all> the & tricky ``{braces}`` bits."""

    def make(self, defaults: Defaults, mood: Mood) -> Defaults:
        """Make one."""
        return defaults

    @java_method("make")
    def make_many(self, count: int) -> list[Defaults]:
        return [Defaults() for _ in range(count)]

    @java_method(throws=(BigOops,))
    def fail(self, default: str) -> None:
        raise BigOops(default)

    def when(self, date: Date) -> dict[str, list[Long]]:
        return {}


@dataclass
class Keyworded(JavaObject, java_class=f"{PACKAGE}.Keyworded"):
    default: str = ""  # fine in Python, a reserved word in Java


class KeywordService(Service, interface=f"{PACKAGE}.KeywordService"):
    def get(self) -> Keyworded:
        return Keyworded()
