"""Dubbo generic maps <-> bound dataclasses (Java's PojoUtils.generalize / realize).

A generic call (``$invoke``) carries POJOs as maps whose ``"class"`` key names
the Java class, and expects results in the same shape::

    {"class": "org.x.Item", "itemId": "a", "score": 0.5}

``to_generic(value)`` turns bound objects (and ``JavaGenericObject``) into such
maps, enums into their constant name, recursively through lists, sets and
maps; scalars stay as they are, except that an ``int`` declared ``long`` (by a field's
annotation, or by ``to_generic(value, annotation)``) becomes a ``Long``. ``from_generic(value, cls)`` goes back: a map
becomes an instance of ``cls`` (or of the bound class its ``"class"`` key
names, looked up in ``classes``), converting each field by its annotation
(``Long`` widths, enums from names, nested objects); a map naming an unbound
class becomes a ``JavaGenericObject``. Unknown keys are ignored, as in Java.

Both walk a value once however often it is referenced (a memo by identity, like
Java's history maps), so shared references cannot make them amplify, and keep
the sharing in their result. No wire format here; errors are ``EncodeError``
naming the path (``$.items[2]``), with values described, never rendered.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from ._errors import EncodeError, describe, too_many
from ._keys import FloodError, to_set
from ._model import _BOUND, ANY, JavaGenericObject, JavaObject, Spec, class_info, max_items, resolve_spec
from ._wrappers import Byte, Float, Int, Long, MapEntries, Short

__all__ = ["from_generic", "to_generic"]

_WIDTHS = {"long": Long, "int": Int, "short": Short, "byte": Byte}


def to_generic(value: Any, annotation: Any = None) -> Any:
    """Bound objects -> maps with a ``"class"`` key, recursively (PojoUtils.generalize).

    An object reached twice (shared, or a cycle) becomes one map, reached twice,
    as Java's history map does: a DAG of references is walked once, not as a tree.
    Java longs keep their width: an ``int`` held where a field's annotation (or
    ``annotation``, the declared type of ``value``) says ``long`` becomes a ``Long``,
    as Java's generalize boxes a ``long`` field as ``java.lang.Long``."""
    return _Generalize().run(value, ANY if annotation is None else resolve_spec(annotation), 0)


class _Generalize:
    def __init__(self) -> None:
        self.done: dict[int, Any] = {}
        self.keep: list[Any] = []  # the sources, so their ids stay unique while we run

    def run(self, value: Any, spec: Spec, depth: int) -> Any:
        if depth > 200:
            raise EncodeError("value nested too deeply to generalize")
        kind = spec[0]
        if kind == "long" and isinstance(value, int) and not isinstance(value, (bool, Long)):
            return Long(value)
        if isinstance(value, enum.Enum):
            return value.name
        if not isinstance(value, (JavaObject, JavaGenericObject, dict, list, tuple, set, frozenset, MapEntries)):
            return value
        found = self.done.get(id(value))
        if found is not None:
            return found
        self.keep.append(value)
        deeper = depth + 1
        if isinstance(value, (JavaObject, JavaGenericObject)):
            result: Any = {}
            self.done[id(value)] = result
            if isinstance(value, JavaObject):
                info = class_info(type(value))
                result["class"] = info.java_class
                # declaration order reads better than wire order
                for name, field_spec in reversed(tuple(zip(info.names, info.specs, strict=True))):
                    result[name] = self.run(getattr(value, name), field_spec, deeper)
            else:
                result["class"] = value.java_class
                for name, item in value.fields.items():
                    result[name] = self.run(item, ANY, deeper)
            return result
        if isinstance(value, (dict, MapEntries)):
            key_spec, value_spec = (spec[1], spec[2]) if kind == "map" else (ANY, ANY)
            entries = [(self.run(k, key_spec, deeper), self.run(v, value_spec, deeper)) for k, v in value.items()]
            result = MapEntries(entries, getattr(value, "java_type", None)) if isinstance(value, MapEntries) else {}
            self.done[id(value)] = result
            if not isinstance(result, MapEntries):
                result.update(entries)
            return result
        item_spec = spec[1] if kind in ("list", "set") else ANY
        result = []
        self.done[id(value)] = result
        result.extend(self.run(item, item_spec, deeper) for item in value)
        return result


def from_generic(value: Any, cls: type | None = None, *, classes: Mapping[str, type] | None = None) -> Any:
    """A generic map (or list of them) -> bound objects; ``cls`` is the declared type, if known.

    A value reached twice (shared or cyclic) is converted once, as Java's PojoUtils.realize
    does with its history map, so a DAG of references costs its size, not its tree size."""
    lookup = _BOUND if classes is None else classes
    spec = resolve_spec(cls) if cls is not None else ANY
    return _Realize(lookup).run(value, spec, None, 0)


Where = tuple[Any, Any] | None  # (parent, step): the path, rendered only for an error


def _render(where: Where) -> str:
    steps = []
    while where is not None:
        where, step = where
        steps.append(step)
    text = "$" + "".join(f".{s}" if type(s) is str else f"[{s}]" for s in reversed(steps))
    return text if len(text) <= 300 else text[:150] + "..." + text[-150:]


class _Realize:
    def __init__(self, lookup: Mapping[str, type]) -> None:
        self.lookup = lookup
        self.done: dict[tuple[int, Spec], Any] = {}
        self.keep: list[Any] = []

    def fail(self, where: Where, message: str) -> EncodeError:
        return EncodeError(f"at {_render(where)}: {message}")

    def run(self, value: Any, spec: Spec, where: Where, depth: int) -> Any:
        if value is None:
            return None
        if depth > 200:
            raise self.fail(where, "nested too deeply")
        kind = spec[0]
        if kind in _WIDTHS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(where, f"expected an integer, got {describe(value)}")
            try:
                return _WIDTHS[kind](value) if kind == "long" else int(_WIDTHS[kind](value))
            except EncodeError as exc:
                raise self.fail(where, str(exc)) from None
        if kind in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(where, f"expected a number, got {describe(value)}")
            return float(value) if kind == "double" else Float(value)
        if kind in ("str", "char") and not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {describe(value)}")
        if kind == "bool" and not isinstance(value, bool):
            raise self.fail(where, f"expected a boolean, got {describe(value)}")
        if kind == "enum":
            if isinstance(value, spec[1]):
                return value
            member = spec[1].__members__.get(value) if isinstance(value, str) else None
            if member is None:
                raise self.fail(where, f"{describe(value)} is not a constant of {spec[1].__qualname__}")
            return member
        if not isinstance(value, (list, tuple, set, frozenset, dict, MapEntries, JavaGenericObject)):
            if kind in ("list", "set", "map"):
                raise self.fail(where, f"expected a {kind}, got {describe(value)}")
            if kind == "object" and not isinstance(value, spec[1]):
                raise self.fail(where, f"expected a map, got {describe(value)}")
            return value
        token = (id(value), spec)
        found = self.done.get(token)
        if found is not None:
            return found
        self.keep.append(value)
        return self._container(value, spec, kind, where, depth + 1, token)

    def _container(self, value: Any, spec: Spec, kind: str, where: Where, depth: int, token: Any) -> Any:
        most = max_items(spec)
        if most is not None and not isinstance(value, JavaGenericObject) and len(value) > most:
            raise self.fail(where, too_many(len(value), most))
        if kind in ("list", "set") or (kind == "any" and isinstance(value, (list, tuple))):
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise self.fail(where, f"expected a list, got {describe(value)}")
            item = spec[1] if kind != "any" else ANY
            items: list[Any] = []
            self.done[token] = items
            items.extend(self.run(v, item, (where, i), depth) for i, v in enumerate(value))
            if kind != "set":
                return items
            try:
                as_set = to_set(items)
            except FloodError as exc:
                raise self.fail(where, str(exc)) from None
            result = items if as_set is None else as_set  # elements a set would merge stay a list
            self.done[token] = result
            return result
        if kind == "map" or (kind == "any" and isinstance(value, (dict, MapEntries)) and "class" not in value):
            if not isinstance(value, (dict, MapEntries)):
                raise self.fail(where, f"expected a map, got {describe(value)}")
            key_spec, value_spec = (spec[1], spec[2]) if kind == "map" else (ANY, ANY)
            pairs = [
                (self.run(k, key_spec, (where, "key"), depth), self.run(v, value_spec, (where, describe(k)), depth))
                for k, v in value.items()
            ]
            mapped = MapEntries(pairs, value.java_type) if isinstance(value, MapEntries) else dict(pairs)
            self.done[token] = mapped
            return mapped
        if kind == "object" or (kind == "any" and isinstance(value, (dict, JavaGenericObject))):
            return self._object(value, spec[1] if kind == "object" else None, where, depth, token)
        return value

    def _object(self, value: Any, declared: type | None, where: Where, depth: int, token: Any) -> Any:
        if declared is not None and isinstance(value, declared):
            return value
        named: object  # the Java class name, when the value carries one
        if isinstance(value, JavaGenericObject):
            fields, named = value.fields, value.java_class
        elif isinstance(value, dict):
            fields, named = value, value.get("class")
        else:
            raise self.fail(where, f"expected a map, got {describe(value)}")
        cls = self.lookup.get(named) if isinstance(named, str) else None
        if cls is None or (declared is not None and not issubclass(cls, declared)):
            cls = declared
        if cls is None:
            if not isinstance(named, str) or not named:
                raise self.fail(where, 'a map without a "class" key and no declared type')
            generic = JavaGenericObject(named, {})
            self.done[token] = generic
            for k, v in fields.items():
                if k != "class":
                    generic.fields[k] = self.run(v, ANY, (where, k), depth)
            return generic
        info = class_info(cls)
        instance = info.new_instance()
        self.done[token] = instance
        for name, spec in zip(info.names, info.specs, strict=True):
            if name in fields:
                object.__setattr__(instance, name, self.run(fields[name], spec, (where, name), depth))
        return instance
