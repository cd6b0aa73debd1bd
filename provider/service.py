"""A Dubbo service is one Python class: the Java interface on the class, one method per Java method.

::

    class OrderService(Service, interface="com.acme.OrderService", version="1.0.0"):
        \"\"\"Orders of the shop.\"\"\"

        async def find(self, orderId: Long) -> Order | None:
            \"\"\"The order, or null.\"\"\"
            ...

        def count(self) -> int: ...

        @java_method("find")                      # an overload of find: Java types from the hints
        def find_by_code(self, code: str) -> Order | None: ...

        @java_method(throws=(OrderNotFound,))     # a Java ``throws`` clause
        def cancel(self, orderId: Long) -> None: ...

        lookup = find                             # one more Java name for the same method

The type hints are the Java contract (``provider.javatype`` says which hint is which
Java type), so nothing is stated twice: the dispatcher derives the parameter
descriptors from them, checks and converts arguments to them on the way in, and
encodes results by the return hint on the way out (ints in a ``list[Long]`` go out as
Java longs). Every public function of the class (and of its ``Service`` bases) is a
Java method named after its attribute; ``@java_method`` renames one (for overloads,
which need distinct Python names) and declares what it throws. Names starting with
``_`` are the class's own business. Handlers may be ``async def`` or plain ``def``
(plain ones run on the event loop: keep them quick).

``interface``, ``version`` and ``group`` are class keywords; a subclass inherits them
and may override one (``class Failing(OrderService, group="failing")``). A service
object that is an async context manager is entered before the server listens and
exited after it closed (connect a database there). The contract is resolved lazily
(annotations may name classes defined later in the module) and checked when the
service is exported: ``provider.contract.contract_of(OrderService)`` is the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from dubbo_recsys.provider.descriptor import canonical_type_name
from dubbo_recsys.provider.errors import DescriptorError, ServiceSpecError
from hessian2 import JavaException

__all__ = ["MethodOptions", "Service", "java_method"]

F = TypeVar("F", bound=Callable[..., Any])


class Service:
    """Base of a class that serves one Java interface (see the module docstring)."""

    __java_interface__: ClassVar[str] = ""
    __java_version__: ClassVar[str] = ""
    __java_group__: ClassVar[str] = ""

    def __init_subclass__(
        cls, *, interface: str | None = None, version: str | None = None, group: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if interface is not None:
            try:
                if canonical_type_name(interface) != interface or interface.endswith("[]") or "." not in interface:
                    raise DescriptorError(interface)
            except DescriptorError:
                raise ServiceSpecError(f"{cls.__name__}: bad Java interface name {interface!r}") from None
            cls.__java_interface__ = interface
        if version is not None:
            cls.__java_version__ = "" if version == "0.0.0" else _plain(cls, "version", version)
        if group is not None:
            cls.__java_group__ = _plain(cls, "group", group)
        cls._contract = None  # type: ignore[attr-defined]  # provider.contract caches the model here


def _plain(cls: type, what: str, value: str) -> str:
    if not isinstance(value, str) or any(ch.isspace() or ch in ",:/&=" for ch in value):
        raise ServiceSpecError(f"{cls.__name__}: bad {what} {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class MethodOptions:
    """What ``@java_method`` says about one method: its Java name and ``throws`` clause."""

    name: str | None = None
    throws: tuple[type[JavaException], ...] = ()


def java_method(name: str | F | None = None, *, throws: Iterable[type[JavaException]] = ()) -> Any:
    """Give a service method another Java name (an overload) or a ``throws`` clause.

    ``@java_method("find")`` makes the decorated function one more overload of Java's
    ``find``; its parameter types come from its hints as always. ``throws`` names the
    bound Java exception classes the method declares (the Java API lists them, and a
    Dubbo 3.2+ consumer trusts the classes its interface names)."""
    if callable(name):  # used bare: @java_method
        return java_method()(name)
    thrown = tuple(throws)
    for exc in thrown:
        if not (isinstance(exc, type) and issubclass(exc, JavaException)):
            raise ServiceSpecError(f"throws: {exc!r} is not a bound Java exception class (subclass JavaException)")

    def mark(func: F) -> F:
        func.__java_method__ = MethodOptions(name, thrown)  # type: ignore[attr-defined]  # the options ride on the function
        return func

    return mark
