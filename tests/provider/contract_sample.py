"""A contract using every kind of Java type, for the contract and dispatch tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from dubbo_recsys.provider.javatype import Java
from dubbo_recsys.provider.service import Service, java_method
from hessian2 import Byte, Char, Float, IllegalArgumentException, JavaEnum, JavaException, JavaObject, Long, Short


class Color(JavaEnum, java_class="org.dubborecsys.test.contract.Color"):
    """A colour."""

    RED = 1
    GREEN = 2


@dataclass
class Node(JavaObject, java_class="org.dubborecsys.test.contract.Node"):
    """A node of a chain."""

    name: str = ""
    """What the node is called."""
    next: Node | None = None
    color: Color = Color.RED
    ids: list[Long] = field(default_factory=list)


@dataclass
class Tagged(Node, java_class="org.dubborecsys.test.contract.Tagged"):
    """A node with tags (a Java subclass of Node)."""

    tags: dict[str, Any] = field(default_factory=dict)


class ContractError(JavaException, java_class="org.dubborecsys.test.contract.ContractException"):
    """The contract's own failure."""

    code: int = 0
    """Why it failed."""


class NotFound(ContractError, java_class="org.dubborecsys.test.contract.NotFoundException"):
    """No such node."""

    key: Long = Long(0)


class BadName(IllegalArgumentException, java_class="org.dubborecsys.test.contract.BadNameException"):
    """A name the contract refuses."""


class Sample(Service, interface="org.dubborecsys.test.contract.SampleService", version="1.0.0", group="g"):
    """A sample service."""

    def get(self, id: Long) -> Node:
        """The node with this id."""
        if id == 404:
            raise NotFound(f"no node {id}", key=id, code=404)
        return Node(name=f"n{id}", ids=[id])

    @java_method("get", throws=(NotFound,))
    def get_by_name(self, name: str) -> Node | None:
        if name == "bad":
            raise BadName(f"bad name {name!r}")
        return None if name == "none" else Node(name=name)

    async def put(self, node: Node, attributes: dict[str, Any]) -> None:
        self.last = (node, attributes)

    def ids(self, color: Color, limit: int) -> list[Long]:
        return list(range(limit))  # plain ints: the hint makes them Java longs

    def primitives(
        self, a: bool, b: Byte, c: Short, d: int, e: Long, f: Float, g: float, h: Char, i: int | None
    ) -> list[Any]:
        return [a, b, c, d, e, f, g, h, i]

    def blob(self, data: bytes) -> bytes:
        return data[::-1]

    def totals(self, values: Annotated[list[int], Java("int[]")]) -> dict[str, Long]:
        return {"sum": sum(values)}

    def tagged(self, node: Tagged) -> Tagged:
        return node

    lookup = get
