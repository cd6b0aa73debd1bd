"""Between decoded values and the Python types a method declares.

``realize(value, cls)`` turns what the codec produced for an argument into the
declared class: the bound object itself (typed call from Java), a generic object
of an unbound class, or a map with a ``"class"`` key (generic ``$invoke`` call,
Java's ``PojoUtils.realize``). Field values are checked against the dataclass
annotations so a wrong shape is refused with a path (``at $.exposureList[2]``)
instead of failing deep inside a handler. Unknown map keys are ignored, as Java does.

``generalize(value)`` is the way back for generic calls: bound objects become maps
carrying their Java class under ``"class"`` (``PojoUtils.generalize``).

No I/O, no codec calls: objects are recognised by shape (dataclasses; anything with
``java_class`` and ``fields`` is a generic object).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import lru_cache
from typing import Any

from dubbo_recsys.provider.errors import ProviderError

__all__ = ["ArgumentError", "generalize", "realize"]

_NONE_TYPE = type(None)


class ArgumentError(ProviderError, ValueError):
    """An argument value that does not fit the declared Java type."""


def realize(value: Any, cls: type | None, where: str = "$") -> Any:
    if cls is None or value is None:
        return value
    return _realize(value, cls, where)


def _realize(value: Any, cls: type, where: str) -> Any:
    if isinstance(value, cls):
        return value
    if not dataclasses.is_dataclass(cls):
        raise ArgumentError(f"at {where}: expected {cls.__name__}, got {type(value).__name__}")
    if isinstance(value, dict):
        source = value
    elif _is_generic_object(value):
        source = value.fields
    else:
        raise ArgumentError(f"at {where}: expected {_java_name(cls)}, got {type(value).__name__}")
    hints = _hints(cls)
    kwargs = {}
    for name, hint in hints.items():
        if name in source:
            kwargs[name] = _realize_field(source[name], hint, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"at {where}: {exc}") from exc


def _realize_field(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:  # Optional[X] and X | None alike
        options = [arg for arg in typing.get_args(hint) if arg is not _NONE_TYPE]
        if value is None:
            return None
        if len(options) == 1:
            return _realize_field(value, options[0], where)
        return value
    if value is None:
        return None
    if origin in (list, list):
        if not isinstance(value, (list, tuple)):
            raise ArgumentError(f"at {where}: expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(hint) or (Any,)
        return [_realize_field(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, dict):
        if not isinstance(value, dict):
            raise ArgumentError(f"at {where}: expected a map, got {type(value).__name__}")
        _, item = typing.get_args(hint) or (Any, Any)
        return {k: _realize_field(v, item, f"{where}[{k!r}]") for k, v in value.items()}
    if hint is Any or not isinstance(hint, type):
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ArgumentError(f"at {where}: expected boolean, got {type(value).__name__}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ArgumentError(f"at {where}: expected java.lang.String, got {type(value).__name__}")
        return value
    if issubclass(hint, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentError(f"at {where}: expected an integer, got {type(value).__name__}")
        try:
            return value if type(value) is hint else hint(value)
        except ValueError as exc:  # a width wrapper refusing an out-of-range value
            raise ArgumentError(f"at {where}: {exc}") from exc
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ArgumentError(f"at {where}: expected a number, got {type(value).__name__}")
        return float(value)
    if dataclasses.is_dataclass(hint):
        return _realize(value, hint, where)
    return value


@lru_cache(maxsize=256)
def _hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls) if f.init}


def _is_generic_object(value: Any) -> bool:
    return isinstance(getattr(value, "java_class", None), str) and isinstance(getattr(value, "fields", None), dict)


def _java_name(cls: type) -> str:
    for attr in ("__java_class__", "java_class", "_java_class"):
        name = getattr(cls, attr, None)
        if isinstance(name, str) and name:
            return name
    return cls.__name__


def generalize(value: Any) -> Any:
    """Bound objects -> maps with ``"class"``; containers recursively; scalars unchanged."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"class": _java_name(type(value))}
        for f in dataclasses.fields(value):
            out[f.name] = generalize(getattr(value, f.name))
        return out
    if _is_generic_object(value):
        out = {"class": value.java_class}
        out.update((k, generalize(v)) for k, v in value.fields.items())
        return out
    if isinstance(value, (list, tuple)):
        return [generalize(v) for v in value]
    if isinstance(value, dict):
        return {k: generalize(v) for k, v in value.items()}
    return value
