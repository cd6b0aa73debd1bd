"""Routing a decoded invocation to a Python handler, and what came of it.

Knows nothing of bytes or sockets: ``provider.body`` turns frames into
``Invocation`` values and ``Outcome`` values back into frames.

A route is ``(interface, version, group)`` as Java builds its service key: the
version and interface travel in the body, the group only in the attachments; an
unset version arrives as ``"0.0.0"``, ``""`` or null and means "no version". Within
a service a method is picked by Java name and parameter descriptor (overloads are
distinct methods); its arguments are checked and converted to the parameter hints
(``provider.convert``) and its result carries the writer of the return hint, so the
body is encoded as the declared Java type. Every exported service also answers:

- ``$echo(Object)``: returns its argument (Java's ``EchoService``);
- ``$invoke`` / ``$invokeAsync(String method, String[] types, Object[] args)``:
  generic calls; POJOs arrive as maps with a ``"class"`` key and results go back
  the same way (``hessian2.to_generic``); failures become
  ``org.apache.dubbo.rpc.service.GenericException``.

What goes wrong, and the answer each gets (Java retries non-OK statuses, never 20):

- no such service -> ``Refused(60)``; no such method/overload -> ``Refused(70)``;
- arguments that do not fit the declared types -> ``Raised`` with
  ``java.lang.IllegalArgumentException`` saying which argument and where, in Java's
  terms (a business exception: retrying the same arguments cannot help);
- the handler raised a bound Java exception (``hessian2.JavaException`` and its
  subclasses: ``IllegalArgumentException``, a contract's own class) -> ``Raised``
  with that class, message, fields and Java cause (Python causes are not sent);
- the handler raised anything else -> ``Raised`` with ``java.lang.RuntimeException``
  naming the method and an error id, nothing of Python's; the traceback goes to our
  log under that id and the Dubbo request id.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.provider.contract import Export, JavaMethod
from dubbo_recsys.provider.convert import ArgumentError, Convert, converter_for
from dubbo_recsys.provider.descriptor import to_descriptor
from dubbo_recsys.provider.errors import DescriptorError, ServiceSpecError
from dubbo_recsys.provider.javatype import bound_java_class, unwrap_hint
from dubbo_recsys.provider.protocol import Status
from hessian2 import IllegalArgumentException, JavaException, to_generic, typed_writer

__all__ = ["Dispatcher", "Invocation", "Outcome", "Raised", "Refused", "Returned", "route_key"]

log = logging.getLogger(__name__)

ECHO = "$echo"
ECHO_DESCRIPTOR = "Ljava/lang/Object;"
GENERIC_METHODS = ("$invoke", "$invokeAsync")
GENERIC_DESCRIPTOR = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;"
RUNTIME_EXCEPTION = "java.lang.RuntimeException"
GENERIC_EXCEPTION = "org.apache.dubbo.rpc.service.GenericException"
_ERROR_IDS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Invocation:
    """One decoded request body (DubboCodec's RpcInvocation); ``request_id`` is the frame's, for logs."""

    dubbo_version: str
    path: str
    version: str
    method: str
    descriptor: str
    args: tuple[Any, ...]
    attachments: Mapping[str, Any] = field(default_factory=dict)
    request_id: int = 0
    # (handler, its converted arguments or the ArgumentError) when converted ahead (Dispatcher.preconvert)
    converted: tuple[Any, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def group(self) -> str:
        group = self.attachments.get("group")
        return group if isinstance(group, str) else ""


@dataclass(frozen=True, slots=True)
class Returned:
    """The method returned ``value`` (``None`` travels as the null flag); ``writer``
    encodes it as the declared return type (``None``: by its Python type)."""

    value: Any
    writer: Callable[[Any, Any], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Raised:
    """The method failed; ``exception`` is the Java exception object sent to the caller."""

    exception: JavaException

    @property
    def java_class(self) -> str:
        return self.exception.java_class

    @property
    def message(self) -> str:
        return self.exception.message or ""

    @property
    def extra_fields(self) -> Mapping[str, Any]:
        return self.exception.extra


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


class _Handler:
    """One Java method of one export, ready to call: bound method, converters, result writer."""

    __slots__ = ("call", "converters", "label", "method", "void", "writer")

    def __init__(self, export: Export, method: JavaMethod) -> None:
        self.method = method
        self.call = getattr(export.implementation, method.python_name)
        self.converters: tuple[Convert, ...] = tuple(converter_for(p.hint) for p in method.parameters)
        self.writer = _result_writer(method)
        self.void = method.returns.is_void
        self.label = f"{export.contract.interface}.{method.signature}"

    def arguments(self, values: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
        """The converted arguments; ``ArgumentError`` names the parameter."""
        converters = self.converters
        if len(values) != len(converters):
            raise ArgumentError(f"{len(converters)} arguments", str(len(values)))
        if len(converters) == 1:  # the usual Dubbo shape: one request object
            try:
                return (converters[0](values[0]),)
            except ArgumentError as exc:
                raise exc.at(self.method.parameters[0].name) from None
        out = []
        for convert, value, param in zip(converters, values, self.method.parameters, strict=True):
            try:
                out.append(convert(value))
            except ArgumentError as exc:
                raise exc.at(param.name) from None
        return tuple(out)


class _Route:
    """One exported service, its methods indexed for lookup."""

    __slots__ = ("by_name", "by_signature", "export")

    def __init__(self, export: Export) -> None:
        self.export = export
        self.by_signature: dict[tuple[str, str], _Handler] = {}
        self.by_name: dict[str, list[_Handler]] = {}
        for method in export.contract.methods:
            handler = _Handler(export, method)
            self.by_signature[(method.name, method.descriptor)] = handler
            self.by_name.setdefault(method.name, []).append(handler)


class Dispatcher:
    """Routes invocations to exported services; several interfaces per process."""

    def __init__(self, exports: Iterable[Export]) -> None:
        self._routes: dict[tuple[str, str, str], _Route] = {}
        self.observers: list[Any] = []  # provider.observability.DispatchObserver: told every outcome
        for export in exports:
            contract = export.contract
            key = route_key(contract.interface, contract.version, contract.group)
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
        handler = route.by_signature.get((name, invocation.descriptor))
        if handler is None:
            return self._no_method(route, name, invocation.descriptor)
        converted = invocation.converted
        try:
            if converted is not None and converted[0] is handler:
                args = converted[1]
                if isinstance(args, ArgumentError):
                    raise args
            else:
                args = handler.arguments(invocation.args)
        except ArgumentError as exc:
            return Raised(IllegalArgumentException(f"{handler.label}: {exc}"))
        return await _call(handler, args, invocation)

    def preconvert(self, invocation: Invocation) -> Invocation:
        """``invocation`` with its arguments checked and converted now, for ``dispatch`` to use: a
        large body's exchange does this beside the event loop (``provider.slices``), where the
        checks of a million items can pause. Echo, generic calls and unknown routes: unchanged."""
        route = self._routes.get(route_key(invocation.path, invocation.version, invocation.group))
        if route is None or invocation.method == ECHO or invocation.method in GENERIC_METHODS:
            return invocation
        handler = route.by_signature.get((invocation.method, invocation.descriptor))
        if handler is None:
            return invocation
        try:
            converted: Any = handler.arguments(invocation.args)
        except ArgumentError as exc:
            converted = exc
        return dataclasses.replace(invocation, converted=(handler, converted))

    def _no_method(self, route: _Route, name: str, descriptor: str) -> Refused:
        contract = route.export.contract
        known = route.by_name.get(name)
        if known:
            detail = f"no overload with descriptor {descriptor!r}; declared: " + ", ".join(
                repr(h.method.descriptor) for h in known
            )
        else:
            detail = "methods: " + ",".join(contract.method_names)
        return Refused(Status.SERVICE_ERROR, f"Not found method {name} in service {contract.interface}: {detail}")

    async def _generic(self, route: _Route, invocation: Invocation) -> Outcome:
        name, types, values = (*invocation.args, None, None, None)[:3]
        candidates = route.by_name.get(name, []) if isinstance(name, str) else []
        try:
            handler = _pick_overload(candidates, types)
        except (DescriptorError, ArgumentError) as exc:
            return _generic_failure("java.lang.NoSuchMethodException", f"{name}: {exc}")
        if handler is None:
            shown = ", ".join(t for t in types if isinstance(t, str)) if isinstance(types, (list, tuple)) else ""
            return _generic_failure(
                "java.lang.NoSuchMethodException", f"no method {name}({shown}) in {route.export.contract.interface}"
            )
        try:
            args = handler.arguments(list(values or ()))
        except ArgumentError as exc:
            return _generic_failure("java.lang.IllegalArgumentException", f"{handler.label}: {exc}")
        outcome = await _call(handler, args, invocation)
        if isinstance(outcome, Returned):
            return Returned(to_generic(outcome.value, unwrap_hint(handler.method.return_hint)[0]))
        if isinstance(outcome, Raised):
            return _generic_failure(outcome.java_class, outcome.message)
        return outcome


def _result_writer(method: JavaMethod) -> Callable[[Any, Any], None] | None:
    """The writer of the declared return type, or ``None`` where a value's own type writes the same
    bytes (a bound class, a string, ...): only numbers and containers need the declaration."""
    bare = unwrap_hint(method.return_hint)[0]
    if method.returns.is_void or bare in (Any, object, str, bool, bytes):
        return None
    if isinstance(bare, type) and bound_java_class(bare):
        return None
    return typed_writer(bare)


def _pick_overload(candidates: list[_Handler], types: Any) -> _Handler | None:
    if types is None or (isinstance(types, (list, tuple)) and not types and len(candidates) == 1):
        if len(candidates) > 1:
            raise ArgumentError("the parameter types of an overloaded method", "none")
        return candidates[0] if candidates else None
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise ArgumentError("a list of Java type names", "something else")
    wanted = to_descriptor(types)
    for handler in candidates:
        if handler.method.descriptor == wanted:
            return handler
    return None


def _generic_failure(exception_class: str, message: str) -> Raised:
    return Raised(
        JavaException(
            f"{exception_class}: {message}",
            java_class=GENERIC_EXCEPTION,
            extra={"exceptionClass": exception_class, "exceptionMessage": message},
        )
    )


async def _call(handler: _Handler, args: tuple[Any, ...], invocation: Invocation) -> Outcome:
    try:
        result = handler.call(*args)
        if hasattr(result, "__await__"):  # async handler (10x cheaper than inspect.isawaitable)
            result = await result
    except JavaException as exc:  # the contract's answer: sent as that Java class
        log.debug("%s raised %s", handler.label, exc.java_class, exc_info=True)
        return Raised(_for_java(exc))
    except Exception as exc:  # our failure, not the caller's business: an id to find it in the log
        error_id = f"{os.getpid():x}-{next(_ERROR_IDS):x}"
        log.error(
            "%s failed (error id %s, request %d): %s",
            handler.label,
            error_id,
            invocation.request_id,
            type(exc).__name__,
            exc_info=exc,
        )
        return Raised(JavaException(f"Internal error in {handler.label} (error id {error_id})"))
    return Returned(None if handler.void else result, handler.writer)


def _for_java(exc: JavaException, depth: int = 0) -> JavaException:
    """``exc`` with only Java causes: a ``raise X from python_error`` keeps X and drops the
    Python error (whose text may hold internals); the chain is cut at 8 levels."""
    cause = exc.cause
    if cause is None and isinstance(exc.__cause__, JavaException):
        cause = exc.__cause__
    kept = isinstance(cause, JavaException) and cause is not exc and depth < 8
    cause = _for_java(cause, depth + 1) if kept and isinstance(cause, JavaException) else None
    if cause is exc.cause:
        return exc
    exc.cause = cause
    return exc
