"""Routing a decoded invocation to a Python handler, and what came of it.

Knows nothing of bytes or sockets: ``provider.body`` turns frames into
``Invocation`` values and ``Outcome`` values back into frames.

A route is ``(interface, version, group)`` as Java builds its service key: the
version and interface travel in the body, the group only in the attachments; an
unset version arrives as ``"0.0.0"``, ``""`` or null and means "no version". Within
a service a method is picked by Java name and parameter descriptor (overloads are
distinct methods). Every exported service also answers:

- ``$echo(Object)``: returns its argument (Java's ``EchoService``);
- ``$invoke`` / ``$invokeAsync(String method, String[] types, Object[] args)``:
  generic calls; POJOs arrive as maps with a ``"class"`` key and results go back
  the same way (``provider.generic``); failures become
  ``org.apache.dubbo.rpc.service.GenericException``.

What goes wrong, and the answer each gets (Java retries non-OK statuses, never 20):

- no such service -> ``Refused(60)``; no such method/overload -> ``Refused(70)``;
- arguments that do not fit the declared types -> ``Refused(40)``;
- the handler raised -> ``Raised`` (status 20 + ``java.lang.RuntimeException``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.provider.errors import DescriptorError, ServiceSpecError
from dubbo_recsys.provider.generic import ArgumentError, generalize, realize
from dubbo_recsys.provider.protocol import Status
from dubbo_recsys.provider.spec import Export, MethodSpec

__all__ = ["Dispatcher", "Invocation", "Outcome", "Raised", "Refused", "Returned", "route_key"]

log = logging.getLogger(__name__)

ECHO = "$echo"
ECHO_DESCRIPTOR = "Ljava/lang/Object;"
GENERIC_METHODS = ("$invoke", "$invokeAsync")
GENERIC_DESCRIPTOR = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;"
RUNTIME_EXCEPTION = "java.lang.RuntimeException"
GENERIC_EXCEPTION = "org.apache.dubbo.rpc.service.GenericException"


@dataclass(frozen=True, slots=True)
class Invocation:
    """One decoded request body (DubboCodec's RpcInvocation)."""

    dubbo_version: str
    path: str
    version: str
    method: str
    descriptor: str
    args: tuple[Any, ...]
    attachments: Mapping[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        group = self.attachments.get("group")
        return group if isinstance(group, str) else ""


@dataclass(frozen=True, slots=True)
class Returned:
    """The method returned ``value`` (``None`` travels as the null flag)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Raised:
    """The method failed; sent as a Java exception object of ``java_class`` with
    ``detailMessage = message`` plus ``extra_fields``."""

    java_class: str
    message: str
    extra_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refused:
    """Not invoked at all: answered with a non-OK ``status`` and a message."""

    status: Status
    message: str


Outcome = Returned | Raised | Refused


def normalize_version(version: Any) -> str:
    if version is None or version == "0.0.0":
        return ""
    return str(version)


def route_key(interface: str, version: Any, group: Any) -> tuple[str, str, str]:
    return (interface, normalize_version(version), group or "")


def _format_key(key: tuple[str, str, str]) -> str:
    interface, version, group = key
    text = interface
    if group:
        text = f"{group}/{text}"
    if version:
        text = f"{text}:{version}"
    return text


class _Route:
    """One exported service, its methods indexed for lookup."""

    __slots__ = ("by_name", "by_signature", "export")

    def __init__(self, export: Export) -> None:
        self.export = export
        self.by_signature: dict[tuple[str, str], MethodSpec] = {}
        self.by_name: dict[str, list[MethodSpec]] = {}
        for method in export.spec.methods:
            self.by_signature[(method.name, method.descriptor)] = method
            self.by_name.setdefault(method.name, []).append(method)


class Dispatcher:
    """Routes invocations to exported services; several interfaces per process."""

    def __init__(self, exports: Iterable[Export]) -> None:
        self._routes: dict[tuple[str, str, str], _Route] = {}
        self.observers: list[Any] = []  # provider.observability.DispatchObserver: told every outcome
        for export in exports:
            spec = export.spec
            key = route_key(spec.interface, spec.version, spec.group)
            if key in self._routes:
                raise ServiceSpecError(f"service {_format_key(key)} exported twice")
            self._routes[key] = _Route(export)

    @property
    def exports(self) -> tuple[Export, ...]:
        return tuple(route.export for route in self._routes.values())

    async def dispatch(self, invocation: Invocation) -> Outcome:
        """Never raises for anything the caller sent or the handler did; observers see each outcome."""
        if not self.observers:
            return await self._route(invocation)
        started = time.perf_counter()
        outcome = await self._route(invocation)
        for observer in self.observers:
            observer.observe_dispatch(invocation, outcome, time.perf_counter() - started)
        return outcome

    async def _route(self, invocation: Invocation) -> Outcome:
        key = route_key(invocation.path, invocation.version, invocation.group)
        route = self._routes.get(key)
        if route is None:
            return Refused(
                Status.SERVICE_NOT_FOUND,
                f"Not found exported service: {_format_key(key)}; exported: "
                + ", ".join(sorted(_format_key(k) for k in self._routes)),
            )
        name = invocation.method
        if name == ECHO and len(invocation.args) == 1:
            return Returned(invocation.args[0])
        if name in GENERIC_METHODS and invocation.descriptor == GENERIC_DESCRIPTOR:
            return await self._generic(route, invocation)
        method = route.by_signature.get((name, invocation.descriptor))
        if method is None:
            return self._no_method(route, name, invocation.descriptor)
        try:
            args = tuple(
                realize(arg, tp) for arg, tp in zip(invocation.args, method.python_parameter_types, strict=True)
            )
        except ArgumentError as exc:
            return Refused(Status.BAD_REQUEST, f"bad arguments for {_format_key(key)}.{name}: {exc}")
        return await _call(route.export.implementation, method, args)

    def _no_method(self, route: _Route, name: str, descriptor: str) -> Refused:
        spec = route.export.spec
        known = route.by_name.get(name)
        if known:
            detail = f"no overload with descriptor {descriptor!r}; declared: " + ", ".join(
                repr(m.descriptor) for m in known
            )
        else:
            detail = "methods: " + ",".join(spec.method_names)
        return Refused(Status.SERVICE_ERROR, f"Not found method {name} in service {spec.interface}: {detail}")

    async def _generic(self, route: _Route, invocation: Invocation) -> Outcome:
        name, types, values = (*invocation.args, None, None, None)[:3]
        candidates = route.by_name.get(name, []) if isinstance(name, str) else []
        try:
            method = _pick_overload(candidates, types)
        except (DescriptorError, ArgumentError) as exc:
            return _generic_failure("java.lang.NoSuchMethodException", f"{name}: {exc}")
        if method is None:
            return _generic_failure(
                "java.lang.NoSuchMethodException",
                f"no method {name}({', '.join(types or ())}) in {route.export.spec.interface}",
            )
        values = list(values or ())
        if len(values) != len(method.parameter_types):
            return _generic_failure(
                "java.lang.IllegalArgumentException",
                f"{name} takes {len(method.parameter_types)} arguments, got {len(values)}",
            )
        try:
            args = tuple(realize(v, tp) for v, tp in zip(values, method.python_parameter_types, strict=True))
        except ArgumentError as exc:
            return _generic_failure("java.lang.IllegalArgumentException", f"{name}: {exc}")
        outcome = await _call(route.export.implementation, method, args)
        if isinstance(outcome, Returned):
            return Returned(generalize(outcome.value))
        if isinstance(outcome, Raised):
            return _generic_failure(outcome.java_class, outcome.message)
        return outcome


def _pick_overload(candidates: list[MethodSpec], types: Any) -> MethodSpec | None:
    if types is None or (isinstance(types, (list, tuple)) and not types and len(candidates) == 1):
        if len(candidates) > 1:
            raise ArgumentError("overloaded: name the parameter types")
        return candidates[0] if candidates else None
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise ArgumentError("parameter types must be a list of Java type names")
    from dubbo_recsys.provider.descriptor import to_descriptor

    wanted = to_descriptor(types)
    for method in candidates:
        if method.descriptor == wanted:
            return method
    return None


def _generic_failure(exception_class: str, message: str) -> Raised:
    return Raised(
        GENERIC_EXCEPTION,
        f"{exception_class}: {message}",
        {"exceptionClass": exception_class, "exceptionMessage": message},
    )


async def _call(implementation: Any, method: MethodSpec, args: tuple[Any, ...]) -> Outcome:
    try:
        result = getattr(implementation, method.handler)(*args)
        if hasattr(result, "__await__"):  # async handler (10x cheaper than inspect.isawaitable)
            result = await result
    except Exception as exc:  # the handler's failure is the caller's answer, not ours
        log.debug("handler %s raised", method.name, exc_info=True)
        return Raised(RUNTIME_EXCEPTION, f"{type(exc).__name__}: {exc}")
    return Returned(result)
