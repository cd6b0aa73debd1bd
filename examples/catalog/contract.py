"""The Python bindings of the catalog's Java classes (``java/src/main/java/org/dubborecsys/example/catalog``).

One binding per Java class, field for field: the Java class name is the class keyword,
the annotations are the Java field types (``Long`` is ``long``, ``float`` is
``double``, ``Float`` is ``float``, ``X | None`` a reference that may be null). Docstrings
become Javadoc when the Java API is generated from Python instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hessian2 import Byte, Char, JavaEnum, JavaException, JavaObject, Long, Short

PACKAGE = "org.dubborecsys.example.catalog"


class Category(JavaEnum, java_class=f"{PACKAGE}.Category"):
    """What kind of product it is."""

    BOOKS = 1
    MUSIC = 2
    GAMES = 3


@dataclass
class Price(JavaObject, java_class=f"{PACKAGE}.Price"):
    """An amount in a currency."""

    amount: float = 0.0
    currency: str = "EUR"


@dataclass
class Product(JavaObject, java_class=f"{PACKAGE}.Product"):
    """One product of the catalog."""

    id: Long = 0
    name: str = ""
    category: Category | None = None
    price: Price | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    thumbnail: bytes | None = None
    """A small image (PNG bytes)."""


@dataclass
class Primitives(JavaObject, java_class=f"{PACKAGE}.Primitives"):
    """One value of every Java primitive type (``ratio`` is a double: see below)."""

    flag: bool = False
    small: Byte = 0
    medium: Short = 0
    number: int = 0
    big: Long = 0
    ratio: float = 0.0
    """A Java ``float`` *field* does not survive hessian-lite 4.0.x (Dubbo 3.3's), even from
    Java to Java: its reader stores the value as a double over the next field. Parameters
    and return values of type ``float`` are fine."""
    precise: float = 0.0
    letter: Char = " "


class ProductNotFoundException(JavaException, java_class=f"{PACKAGE}.ProductNotFoundException"):
    """No product has this id."""

    productId: Long = 0
