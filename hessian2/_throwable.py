"""Java exceptions: the object a Dubbo provider sends, and the ones Java sends us.

hessian-lite writes a Throwable as an ordinary object of its own class with
the fields of ``java.lang.Throwable`` (plus any of the subclass)::

    C "java.lang.RuntimeException" 4
        "suppressedExceptions" "stackTrace" "cause" "detailMessage"
    suppressedExceptions  typed list "java.util.Collections$EmptyList" (Java 17's empty sentinel)
    stackTrace            typed list "[java.lang.StackTraceElement" of StackTraceElement objects
    cause                 the cause, or a reference to the exception itself when it has none
                          (Java's ``cause == this`` means "no cause set")
    detailMessage         the message, or null

``JavaException`` is a Python exception carrying those fields, so a decoded
Java exception can be raised, inspected and echoed, and a provider can build
the ``java.lang.RuntimeException`` Dubbo consumers rethrow (never
``java.lang.Throwable``: Dubbo 3.2+ refuses it). Any object whose class
definition has ``detailMessage`` and ``stackTrace`` decodes as one; fields of
subclasses are kept in ``extra``.
"""

from __future__ import annotations

import copy
import inspect
import os
import typing
from collections.abc import Callable
from dataclasses import dataclass
from sys import getsizeof
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from ._containers import SLOTS
from ._encoder import Writer, compile_spec
from ._encoder import register as register_writer
from ._errors import EncodeError, known_types
from ._model import _BOUND, JavaObject, Spec, resolve_spec
from ._objects import THROWABLE_READER, ClassDef, begin_object
from ._wrappers import Byte, TypedList

if TYPE_CHECKING:  # annotations only: the decoder imports this module
    from ._decoder import Decoder
    from ._encoder import Encoder

__all__ = [
    "IllegalArgumentException",
    "IllegalStateException",
    "JavaException",
    "NullPointerException",
    "StackTraceElement",
    "UnsupportedOperationException",
    "exception_fields",
]

STACK_TRACE_TYPE = "[java.lang.StackTraceElement"
SUPPRESSED_TYPE = "java.util.Collections$EmptyList"
# Java's sentinel is one shared empty list, so the second exception of a stream refers to the first's.
_EMPTY_SUPPRESSED = TypedList(SUPPRESSED_TYPE)
_THROWABLE_FIELDS = ("suppressedExceptions", "stackTrace", "cause", "detailMessage")


@dataclass
class StackTraceElement(JavaObject, java_class="java.lang.StackTraceElement"):
    """One frame, fields as Java 9+ declares them (Java 8 readers ignore the extra ones)."""

    classLoaderName: str | None = None
    moduleName: str | None = None
    moduleVersion: str | None = None
    declaringClass: str = ""
    methodName: str = ""
    fileName: str | None = None
    lineNumber: int = -1
    format: Byte = Byte(0)


class JavaException(Exception):
    """A Java Throwable as a Python exception.

    ``JavaException("boom")`` is the ``java.lang.RuntimeException`` a provider
    sends; ``JavaException.from_exception(exc)`` turns a Python exception
    (with its traceback and cause chain) into one.

    A Java exception class is bound by subclassing, like ``JavaObject``; annotated
    class attributes are its own fields, written by their annotation (``Long`` is a
    Java long), given as keywords and defaulting to the class attribute::

        class OrderNotFound(JavaException, java_class="com.acme.OrderNotFoundException"):
            orderId: Long = 0

        raise OrderNotFound("no order 7", orderId=7)

    The Java superclass of a bound class is the Java class of its nearest bound
    Python base (``java.lang.RuntimeException`` for ``JavaException`` itself). Decoded
    exceptions of a bound class come back as that class; others as ``JavaException``
    with ``java_class`` set and their own fields in ``extra``.
    """

    __java_class__: ClassVar[str] = "java.lang.RuntimeException"
    _h2_throwable: ClassVar[bool] = True  # tells the decoder's class lookup to read it as a Throwable

    def __init_subclass__(cls, java_class: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if java_class is not None:
            if not java_class or not isinstance(java_class, str):
                raise TypeError(f"{cls.__name__}: java_class must be a non-empty string")
            cls.__java_class__ = java_class
            _BOUND[java_class] = cls
        cls._h2_fields = None  # type: ignore[attr-defined]  # exception_fields() caches here

    def __init__(
        self,
        message: str | None = None,
        *,
        java_class: str | None = None,
        cause: JavaException | None = None,
        stack_trace: list[Any] | None = None,
        suppressed: list[Any] | None = None,
        extra: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message)
        java_class = type(self).__java_class__ if java_class is None else java_class
        if not java_class:
            raise EncodeError("a Java exception needs a class name")
        self.java_class = java_class
        self.message = message
        self.cause = cause
        self.stack_trace: list[Any] = list(stack_trace or [])
        self.suppressed: list[Any] = list(suppressed) if suppressed else []
        self.extra: dict[str, Any] = dict(extra or {})
        self._wire_suppressed: Any = None
        self._field_order: tuple[str, ...] | None = None
        for name, (default, _spec) in exception_fields(type(self)).items():
            value = fields.pop(name) if name in fields else default
            setattr(self, name, copy.copy(value) if isinstance(value, (list, dict, set)) else value)
        if fields:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(map(repr, fields))}")

    def __str__(self) -> str:
        return f"{self.java_class}: {self.message}" if self.message is not None else self.java_class

    def __repr__(self) -> str:
        if type(self) is not JavaException:
            return f"{type(self).__name__}({self.message!r})"
        return f"JavaException({self.message!r}, java_class={self.java_class!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JavaException):
            return NotImplemented
        return (
            (self.java_class, self.message, self.stack_trace, self.extra)
            == (other.java_class, other.message, other.stack_trace, other.extra)
            and (self.cause is None) == (other.cause is None)
            and (self.cause is None or self.cause is self or self.cause == other.cause)
        )

    __hash__ = Exception.__hash__

    @classmethod
    def from_exception(
        cls, exc: BaseException, *, java_class: str = "java.lang.RuntimeException", _depth: int = 0
    ) -> JavaException:
        """A RuntimeException whose message, stack trace and causes describe ``exc``."""
        if isinstance(exc, JavaException):
            return exc
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        origin = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        cause = None
        if origin is not None and _depth < 8:
            cause = cls.from_exception(origin, java_class=java_class, _depth=_depth + 1)
        return cls(message, java_class=java_class, cause=cause, stack_trace=_frames(exc.__traceback__))


known_types(named=(JavaException,))  # describe() may name its java_class


def _frames(tb: TracebackType | None) -> list[StackTraceElement]:
    """Python traceback -> Java stack trace (innermost frame first, as Java lists them)."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        module = tb.tb_frame.f_globals.get("__name__", "python")
        frames.append(
            StackTraceElement(
                declaringClass=str(module),
                methodName=code.co_name,
                fileName=os.path.basename(code.co_filename),
                lineNumber=tb.tb_lineno,
            )
        )
        tb = tb.tb_next
    frames.reverse()
    return frames


def exception_fields(cls: type) -> dict[str, tuple[Any, Spec]]:
    """A bound exception class's own fields: name -> (default, spec), declaration order
    (the class's annotations, then its bases' up to ``JavaException``); computed once."""
    found: dict[str, tuple[Any, Spec]] | None = cls.__dict__.get("_h2_fields")
    if found is not None:
        return found
    fields: dict[str, tuple[Any, Spec]] = {}
    if cls is not JavaException and issubclass(cls, JavaException):
        try:
            hints = typing.get_type_hints(cls)
        except Exception as exc:  # a NameError in a forward reference, typically
            raise EncodeError(f"cannot resolve the annotations of {cls.__qualname__}: {exc}") from exc
        for klass in cls.__mro__:
            if klass is JavaException:
                break
            for name in inspect.get_annotations(klass):
                hint = hints.get(name)
                if name.startswith("_") or name in fields or typing.get_origin(hint) is ClassVar:
                    continue
                if name in _THROWABLE_FIELDS or name in _RESERVED:
                    raise EncodeError(f"{cls.__qualname__}.{name}: the name is taken by java.lang.Throwable")
                fields[name] = (getattr(cls, name, None), resolve_spec(hint))
    cls._h2_fields = fields  # type: ignore[attr-defined]  # a per-class cache set on the class
    return fields


_RESERVED = frozenset({"java_class", "message", "cause", "stack_trace", "suppressed", "extra", "args"})
_WRITERS: dict[Spec, Writer] = {}


def _typed_writer(spec: Spec) -> Writer:
    writer = _WRITERS.get(spec)
    if writer is None:
        writer = _WRITERS[spec] = compile_spec(spec)
    return writer


def _write_exception(enc: Encoder, exc: JavaException) -> None:
    if enc.seen(exc):
        return
    declared = exception_fields(type(exc))
    extra = tuple(name for name in exc.extra if name not in declared)
    names = exc._field_order or (tuple(declared) + extra + _THROWABLE_FIELDS)
    begin_object(enc, exc.java_class, names)
    write = enc.write_any
    enc.enter()
    for name in names:
        if name == "detailMessage":
            write(enc, exc.message)
        elif name == "cause":
            write(enc, exc if exc.cause is None else exc.cause)
        elif name == "stackTrace":
            trace = exc.stack_trace
            write(enc, trace if isinstance(trace, TypedList) else TypedList(STACK_TRACE_TYPE, trace))
        elif name == "suppressedExceptions":
            wire = exc._wire_suppressed  # what was read, written back unless ``suppressed`` was changed since
            if isinstance(wire, list):
                unchanged = wire is exc.suppressed or list(wire) == exc.suppressed
            else:  # null or a non-list sent in its place: ``suppressed`` was read as []
                unchanged = wire is not None and not exc.suppressed
            if not unchanged:
                wire = TypedList(SUPPRESSED_TYPE, exc.suppressed) if exc.suppressed else _EMPTY_SUPPRESSED
            write(enc, wire)
        elif name in declared:
            _typed_writer(declared[name][1])(enc, getattr(exc, name, None))
        else:
            write(enc, exc.extra.get(name))
    enc.depth -= 1


register_writer(JavaException, _write_exception)


def _throwable_reader(dec: Decoder, definition: ClassDef) -> Callable[[Any], Any] | None:
    names = definition.fields
    bound = dec.classes.get(definition.name)
    cls = bound if isinstance(bound, type) and issubclass(bound, JavaException) else JavaException
    if cls is JavaException and ("detailMessage" not in names or "stackTrace" not in names):
        return None
    java_class = definition.name
    declared = exception_fields(cls)

    def read(dec: Decoder) -> Any:
        exc = cls.__new__(cls)
        JavaException.__init__(exc, None, java_class=java_class)
        dec.refs.append(exc)
        value = dec.value
        fields = {name: value() for name in names}
        message = fields.pop("detailMessage", None)
        cause = fields.pop("cause", None)
        trace = fields.pop("stackTrace", None)
        suppressed = fields.pop("suppressedExceptions", None)
        exc.message = message if isinstance(message, str) else None
        exc.args = (exc.message,)
        exc.cause = None if cause is exc else cause
        exc.stack_trace = trace if isinstance(trace, list) else []
        exc._wire_suppressed = suppressed
        # the list itself, not a copy: a list shared by many exceptions is not walked once per exception
        exc.suppressed = suppressed if isinstance(suppressed, list) else []
        for name in declared:
            if name in fields:
                setattr(exc, name, fields.pop(name))
        exc.extra = fields
        exc._field_order = names
        if isinstance(exc.cause, BaseException):
            exc.__cause__ = exc.cause
        dec.charge(getsizeof(exc) + getsizeof(exc.__dict__) + getsizeof(fields) + SLOTS)
        return exc

    return read


THROWABLE_READER.append(_throwable_reader)


# The java.lang exceptions a provider raises most, bound so that they can be raised (and are
# decoded as themselves). Dubbo 3.2+ consumers accept the first three and RuntimeException
# by default (dubbo-common's serialize.allowlist); UnsupportedOperationException is accepted
# when the interface names it (``throws``), as for any class the interface reaches.


class IllegalArgumentException(JavaException, java_class="java.lang.IllegalArgumentException"):
    """The caller passed an argument the method does not accept."""


class IllegalStateException(JavaException, java_class="java.lang.IllegalStateException"):
    """The call is valid but the provider is not in a state to answer it."""


class NullPointerException(JavaException, java_class="java.lang.NullPointerException"):
    """A value that must be present was null."""


class UnsupportedOperationException(JavaException, java_class="java.lang.UnsupportedOperationException"):
    """The provider does not implement this operation."""
