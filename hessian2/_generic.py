"""Dubbo generic maps <-> bound dataclasses (Java's PojoUtils.generalize / realize).

A generic call (``$invoke``) carries POJOs as maps whose ``"class"`` key names
the Java class, and expects results in the same shape::

    {"class": "org.x.Item", "itemId": "a", "score": 0.5}

``to_generic(value)`` turns bound objects (and ``JavaGenericObject``) into such
maps, enums into their constant name, recursively through lists, sets and
maps; scalars stay as they are. ``from_generic(value, cls)`` goes back: a map
becomes an instance of ``cls`` (or of the bound class its ``"class"`` key
names, looked up in ``classes``), converting each field by its annotation
(``Long`` widths, enums from names, nested objects); a map naming an unbound
class becomes a ``JavaGenericObject``. Unknown keys are ignored, as in Java.

No wire format here; errors are ``EncodeError`` naming the path (``$.items[2]``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from ._errors import EncodeError
from ._model import _BOUND, ANY, JavaGenericObject, JavaObject, Spec, class_info, resolve_spec
from ._wrappers import Byte, Float, Int, Long, Short

__all__ = ["from_generic", "to_generic"]

_WIDTHS = {"long": Long, "int": Int, "short": Short, "byte": Byte}


def to_generic(value: Any, _depth: int = 0) -> Any:
    """Bound objects -> maps with a ``"class"`` key, recursively (PojoUtils.generalize)."""
    if _depth > 200:
        raise EncodeError("value nested too deeply to generalize")
    deeper = _depth + 1
    if isinstance(value, JavaObject):
        info = class_info(type(value))
        result = {"class": info.java_class}
        for name in reversed(info.names):  # declaration order reads better than wire order
            result[name] = to_generic(getattr(value, name), deeper)
        return result
    if isinstance(value, JavaGenericObject):
        result = {"class": value.java_class}
        for name, item in value.fields.items():
            result[name] = to_generic(item, deeper)
        return result
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {to_generic(k, deeper): to_generic(v, deeper) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_generic(item, deeper) for item in value]
    return value


def from_generic(value: Any, cls: type | None = None, *, classes: Mapping[str, type] | None = None) -> Any:
    """A generic map (or list of them) -> bound objects; ``cls`` is the declared type, if known."""
    lookup = _BOUND if classes is None else classes
    spec = resolve_spec(cls) if cls is not None else ANY
    return _convert(value, spec, lookup, "$")


def _convert(value: Any, spec: Spec, lookup: Mapping[str, type], where: str) -> Any:
    if value is None:
        return None
    if len(where) > 2000:
        raise EncodeError(f"at {where[:60]}...: nested too deeply")
    kind = spec[0]
    if kind in _WIDTHS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EncodeError(f"at {where}: expected an integer, got {type(value).__name__}")
        try:
            return _WIDTHS[kind](value) if kind == "long" else int(_WIDTHS[kind](value))
        except EncodeError as exc:
            raise EncodeError(f"at {where}: {exc}") from None
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EncodeError(f"at {where}: expected a number, got {type(value).__name__}")
        return float(value) if kind == "double" else Float(value)
    if kind in ("str", "char") and not isinstance(value, str):
        raise EncodeError(f"at {where}: expected a string, got {type(value).__name__}")
    if kind == "bool" and not isinstance(value, bool):
        raise EncodeError(f"at {where}: expected a boolean, got {type(value).__name__}")
    if kind == "enum":
        if isinstance(value, spec[1]):
            return value
        member = spec[1].__members__.get(value) if isinstance(value, str) else None
        if member is None:
            raise EncodeError(f"at {where}: {value!r} is not a constant of {spec[1].__qualname__}")
        return member
    if kind in ("list", "set"):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise EncodeError(f"at {where}: expected a list, got {type(value).__name__}")
        items = [_convert(v, spec[1], lookup, f"{where}[{i}]") for i, v in enumerate(value)]
        return set(items) if kind == "set" else items
    if kind == "map" or (kind == "any" and isinstance(value, dict) and "class" not in value):
        if not isinstance(value, dict):
            raise EncodeError(f"at {where}: expected a map, got {type(value).__name__}")
        key_spec, value_spec = (spec[1], spec[2]) if kind == "map" else (ANY, ANY)
        return {
            _convert(k, key_spec, lookup, where): _convert(v, value_spec, lookup, f"{where}[{k!r}]")
            for k, v in value.items()
        }
    if kind == "object" or (kind == "any" and isinstance(value, dict)):
        return _object(value, spec[1] if kind == "object" else None, lookup, where)
    if kind == "any" and isinstance(value, (list, tuple)):
        return [_convert(v, ANY, lookup, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _object(value: Any, declared: type | None, lookup: Mapping[str, type], where: str) -> Any:
    if declared is not None and isinstance(value, declared):
        return value
    if isinstance(value, JavaGenericObject):
        fields, named = value.fields, value.java_class
    elif isinstance(value, dict):
        fields, named = value, value.get("class")
    else:
        raise EncodeError(f"at {where}: expected a map, got {type(value).__name__}")
    cls = lookup.get(named) if isinstance(named, str) else None
    if cls is None or (declared is not None and not issubclass(cls, declared)):
        cls = declared
    if cls is None:
        if not isinstance(named, str) or not named:
            raise EncodeError(f'at {where}: a map without a "class" key and no declared type')
        return JavaGenericObject(
            named, {k: _convert(v, ANY, lookup, f"{where}.{k}") for k, v in fields.items() if k != "class"}
        )
    info = class_info(cls)
    instance = info.new_instance()
    for name, spec in zip(info.names, info.specs):
        if name in fields:
            object.__setattr__(instance, name, _convert(fields[name], spec, lookup, f"{where}.{name}"))
    return instance
