"""What an exported service looks like to Java: interface, version, group, methods.

A ``ServiceSpec`` is written once beside the Python implementation and is the only
place the Java shape is stated: it yields the parameter descriptors the dispatcher
matches on, the declared types argument values are realized into, and the
registry metadata (``methods=a,b``) that Nacos records need.

A Java type is given either as a canonical Java name (``"java.lang.String"``,
``"int"``, ``"java.util.List"``) or as a ``hessian2.JavaObject`` subclass, whose
``java_class`` keyword names it. Nothing here touches bytes or sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from dubbo_recsys.provider.descriptor import canonical_type_name, to_descriptor
from dubbo_recsys.provider.errors import DescriptorError, ServiceSpecError

__all__ = ["Export", "JavaType", "MethodSpec", "ServiceSpec", "java_type_name"]

JavaType: TypeAlias = str | type


def java_type_name(tp: JavaType) -> str:
    """Canonical Java name of a spec type: a name as given, or a bound class's Java class."""
    if isinstance(tp, str):
        return canonical_type_name(tp)
    for attr in ("__java_class__", "java_class", "_java_class"):
        name = getattr(tp, attr, None)
        if isinstance(name, str) and name:
            return canonical_type_name(name)
    raise ServiceSpecError(f"{tp!r} is neither a Java type name nor a JavaObject class")


@dataclass(frozen=True)
class MethodSpec:
    """One Java method. ``handler`` is the Python attribute to call (defaults to ``name``).

    ``parameter_types``/``return_type`` as Java sees them; the canonical names and
    the descriptor are derived once, here, so a bad spec fails at export time.
    """

    name: str
    parameter_types: tuple[JavaType, ...]
    return_type: JavaType = "java.lang.Object"
    handler: str = ""
    descriptor: str = field(init=False)
    parameter_names: tuple[str, ...] = field(init=False)
    return_name: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.name or not self.name.isidentifier() or self.name.startswith("$"):
            raise ServiceSpecError(f"bad Java method name {self.name!r}")
        try:
            names = tuple(java_type_name(tp) for tp in self.parameter_types)
            object.__setattr__(self, "descriptor", to_descriptor(names))
            object.__setattr__(
                self, "return_name", "void" if self.return_type == "void" else java_type_name(self.return_type)
            )
        except DescriptorError as exc:
            raise ServiceSpecError(f"method {self.name}: {exc}") from exc
        object.__setattr__(self, "parameter_names", names)
        if not self.handler:
            object.__setattr__(self, "handler", self.name)

    @property
    def python_parameter_types(self) -> tuple[type | None, ...]:
        """The bound classes arguments are realized into (``None`` = take the value as decoded)."""
        return tuple(tp if isinstance(tp, type) else None for tp in self.parameter_types)


@dataclass(frozen=True)
class ServiceSpec:
    """A Java interface as exported: ``version``/``group`` empty when unset."""

    interface: str
    methods: tuple[MethodSpec, ...]
    version: str = ""
    group: str = ""

    def __post_init__(self) -> None:
        try:
            canonical_type_name(self.interface)
        except DescriptorError as exc:
            raise ServiceSpecError(f"bad interface name {self.interface!r}") from exc
        if self.version == "0.0.0":
            object.__setattr__(self, "version", "")
        seen: set[tuple[str, str]] = set()
        for method in self.methods:
            signature = (method.name, method.descriptor)
            if signature in seen:
                raise ServiceSpecError(f"{self.interface}.{method.name}({method.descriptor}) declared twice")
            seen.add(signature)

    @property
    def method_names(self) -> tuple[str, ...]:
        """Distinct method names in declaration order (registry ``methods=`` parameter)."""
        return tuple(dict.fromkeys(m.name for m in self.methods))


@dataclass(frozen=True)
class Export:
    """A spec bound to the object implementing it; checked when built."""

    spec: ServiceSpec
    implementation: Any

    def __post_init__(self) -> None:
        for method in self.spec.methods:
            if not callable(getattr(self.implementation, method.handler, None)):
                raise ServiceSpecError(
                    f"{type(self.implementation).__name__} has no method {method.handler!r} "
                    f"for {self.spec.interface}.{method.name}"
                )
