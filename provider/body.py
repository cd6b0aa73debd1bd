"""Dubbo2 request and response bodies over the Hessian2 codec (DubboCodec's layout).

A body is one Hessian2 stream, values back to back (class definitions and
references are shared across the values, so one ``Encoder``/``Decoder`` per body).

Request::

    dubbo-version  path  version  method  descriptor  arg*  attachments

``version`` is ``"0.0.0"`` when unset (null accepted); the descriptor says how many
``arg`` values follow; ``attachments`` is a map (may be missing from old clients).

Response (status OK)::

    flag [value | exception] [attachments]

``flag`` is a Hessian int: 0 exception, 1 value, 2 null; 3/4/5 the same followed by
an attachments map. 3/4/5 are used only for consumers whose dubbo version is in
2.0.2..2.0.99 (Java's ``Version.isSupportResponseAttachment``); every 2.7/3.x
consumer sends ``"2.0.2"``. Non-OK statuses carry one Hessian string, the message.

Exceptions travel as ``hessian2.JavaException`` objects of the class the handler
raised (``java.lang.RuntimeException`` for an unexpected failure; never
``java.lang.Throwable``, which Dubbo 3.2+ refuses to deserialize), or
``GenericException`` for generic calls, with an empty stack trace: the provider's
Python frames mean nothing to a Java caller. A value is written by the writer of the
method's declared return type (``Returned.writer``).

Everything that goes wrong with the bytes raises ``BodyError``; encoding a
result the codec refuses raises ``BodyError`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from dubbo_recsys.provider.convert import java_name_of
from dubbo_recsys.provider.descriptor import parse_descriptor
from dubbo_recsys.provider.dispatch import Invocation, Raised, Returned
from dubbo_recsys.provider.errors import BodyError, DescriptorError
from hessian2 import MEMORY_RATIO, Decoder, Encoder, Hessian2Error

__all__ = [
    "DUBBO_VERSION",
    "ResultFlag",
    "decode_invocation",
    "decode_message",
    "decode_result",
    "encode_invocation",
    "encode_message",
    "encode_result",
    "supports_response_attachments",
]

DUBBO_VERSION = "2.0.2"
RESPONSE_ATTACHMENTS: Mapping[str, str] = {"dubbo": DUBBO_VERSION}
_MAX_VERSION_CHARS = 32
_LOWEST_ATTACHMENT_VERSION = 2000200
_HIGHEST_PROTOCOL_VERSION = 2009900


class ResultFlag:
    """The response body's leading flag (DubboCodec.RESPONSE_*)."""

    EXCEPTION = 0
    VALUE = 1
    NULL = 2
    EXCEPTION_WITH_ATTACHMENTS = 3
    VALUE_WITH_ATTACHMENTS = 4
    NULL_WITH_ATTACHMENTS = 5


def supports_response_attachments(dubbo_version: str | None) -> bool:
    """Java's rule: the version as an int (``2.0.2`` -> 2000200) within 2.0.2..2.0.99.

    Parsed the way Java's ``Version.getIntVersion`` does, and as defensively: each part's
    leading digits; a version Java could not parse (a part beyond an int, more than four
    parts, anything past 32 characters) is the legacy protocol, so no attachments, never an
    error. The answer is cached for at most 64 versions of at most 32 characters (2 KiB).
    """
    if not dubbo_version or type(dubbo_version) is not str or len(dubbo_version) > _MAX_VERSION_CHARS:
        return False
    return _supports_response_attachments(dubbo_version)


@lru_cache(maxsize=64)
def _supports_response_attachments(dubbo_version: str) -> bool:
    parts = dubbo_version.split(".")
    if len(parts) > 4:
        return False
    value = 0
    for i, part in enumerate(parts):
        digits = 0
        while digits < len(part) and "0" <= part[digits] <= "9":
            digits += 1
        if digits > 9:  # beyond Java's int: Java falls back to the legacy version
            return False
        if digits:
            value += int(part[:digits]) * 10 ** ((len(parts) - i - 1) * 2)
    if len(parts) == 3:
        value *= 100
    return _LOWEST_ATTACHMENT_VERSION <= value <= _HIGHEST_PROTOCOL_VERSION


def _string(value: Any, what: str, nullable: bool = False) -> str:
    if value is None and nullable:
        return ""
    if not isinstance(value, str):
        raise BodyError(f"{what} must be a String, got {java_kind(value)}")
    return value


_JAVA_KINDS: dict[type, str] = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a double",
    str: "a String",
    bytes: "a byte[]",
    list: "a List",
    tuple: "a List",
    dict: "a Map",
}


def java_kind(value: Any) -> str:
    """What ``value`` is, in the Java caller's words (never a Python type name): for error messages.
    Plain values by their kind ("a List", "a number", width wrappers too); anything else by the Java
    class ``convert.java_name_of`` names (bound and generic objects, exceptions)."""
    kind = _JAVA_KINDS.get(type(value))
    if kind is None:
        kind = next((text for base, text in _JAVA_KINDS.items() if isinstance(value, base)), None)
    if kind is None:
        name = java_name_of(value)
        kind = name if name.startswith("an ") else f"a {name}"
    return kind


def decode_invocation(
    body: bytes,
    request_id: int = 0,
    memory_ratio: int = MEMORY_RATIO,
    pause: Callable[[], None] | None = None,
    built: list[Any] | None = None,
) -> Invocation:
    """Read a request body; ``BodyError`` says what was wrong with it. ``memory_ratio``: see
    ``ServerConfig.decode_memory_ratio`` (0: no bound); ``pause``: ``hessian2.Decoder``'s;
    ``built`` gets every container the body decoded into, oldest first (``provider.slices.release_unreferenced``)."""
    try:
        decoder = Decoder(body, memory_ratio=memory_ratio or None, pause=pause)
        dubbo_version = _string(decoder.read(), "dubbo version", nullable=True)
        path = _string(decoder.read(), "service path")
        version = _string(decoder.read(), "service version", nullable=True)
        method = _string(decoder.read(), "method name")
        descriptor = _string(decoder.read(), "parameter descriptor", nullable=True)
        types = parse_descriptor(descriptor)
        args = tuple(decoder.read() for _ in types)
        attachments: Any = {} if decoder.at_end() else decoder.read()
    except DescriptorError as exc:
        raise BodyError(f"bad parameter descriptor: {exc}") from exc
    except Hessian2Error as exc:
        raise BodyError(f"undecodable request body: {exc}") from exc
    if attachments is None:
        attachments = {}
    if not isinstance(attachments, dict):
        raise BodyError(f"attachments must be a Map, got {java_kind(attachments)}")
    if built is not None:
        built.extend(decoder.refs)
    return Invocation(dubbo_version, path, version, method, descriptor, args, attachments, request_id)


def encode_invocation(invocation: Invocation) -> bytes:
    """Write a request body as a 2.7/3.x consumer does."""
    encoder = Encoder()
    try:
        encoder.write(invocation.dubbo_version or DUBBO_VERSION)
        encoder.write(invocation.path)
        encoder.write(invocation.version or "0.0.0")
        encoder.write(invocation.method)
        encoder.write(invocation.descriptor)
        for arg in invocation.args:
            encoder.write(arg)
        encoder.write(dict(invocation.attachments))
    except Hessian2Error as exc:
        raise BodyError(f"cannot encode the call to {invocation.method}: {exc}") from exc
    return encoder.getvalue()


def encode_result(outcome: Returned | Raised, with_attachments: bool, pause: Callable[[], None] | None = None) -> bytes:
    """A response body (flag, value or exception, attachments); ``pause``: ``hessian2.Encoder``'s."""
    encoder = Encoder(pause=pause)
    try:
        if isinstance(outcome, Raised):
            encoder.write(ResultFlag.EXCEPTION_WITH_ATTACHMENTS if with_attachments else ResultFlag.EXCEPTION)
            encoder.write(outcome.exception)
        elif outcome.value is None:
            encoder.write(ResultFlag.NULL_WITH_ATTACHMENTS if with_attachments else ResultFlag.NULL)
        else:
            encoder.write(ResultFlag.VALUE_WITH_ATTACHMENTS if with_attachments else ResultFlag.VALUE)
            encoder.write(outcome.value, outcome.writer)
        if with_attachments:
            encoder.write(dict(RESPONSE_ATTACHMENTS))
    except Hessian2Error as exc:
        raise BodyError(f"cannot encode the result: {exc}") from exc
    return encoder.getvalue()


def decode_result(body: bytes) -> tuple[int, Any, dict[str, Any]]:
    """``(flag, value-or-exception, attachments)`` of an OK response body."""
    try:
        decoder = Decoder(body)
        flag = decoder.read()
        if not isinstance(flag, int) or not 0 <= flag <= 5:
            raise BodyError(f"unknown response flag {flag!r}")
        value = None
        if flag not in (ResultFlag.NULL, ResultFlag.NULL_WITH_ATTACHMENTS):
            value = decoder.read()
        attachments: Any = {}
        if flag >= ResultFlag.EXCEPTION_WITH_ATTACHMENTS:
            attachments = decoder.read() or {}
    except Hessian2Error as exc:
        raise BodyError(f"undecodable response body: {exc}") from exc
    if not isinstance(attachments, dict):
        raise BodyError(f"response attachments must be a map, got {type(attachments).__name__}")
    return flag, value, attachments


def encode_message(text: str) -> bytes:
    encoder = Encoder()
    encoder.write(text)
    return encoder.getvalue()


def decode_message(body: bytes) -> str:
    try:
        value = Decoder(body).read()
    except Hessian2Error as exc:
        raise BodyError(f"undecodable error message: {exc}") from exc
    return value if isinstance(value, str) else repr(value)
