"""Java source for a service contract: the interface, POJOs, enums and exceptions, with Javadoc.

Works on the contract model (``provider.contract``: ``ServiceContract``, ``JavaClass``),
never on hints, so the Java written here names exactly the types the dispatcher
serves. One ``TypeDecl`` per Java type; ``java_file(package, decls)`` renders a
compilation unit whose imports are computed from the types it mentions (a simple
name where it is unambiguous, the qualified name otherwise). Nested classes
(``pkg.Outer$Inner``) are rendered inside their outer class by ``mavenmodule``.

What Java cannot declare (a Java keyword as a method, field or class name, a field
with no Java type) is a ``JavaApiError`` naming it. Docstrings become Javadoc:
``code`` spans (double or single backticks) become ``{@code ...}``, blank lines ``<p>``,
and HTML, ``*/`` and ``\\u`` (which javac reads as an escape even in comments) are
escaped. Python field defaults become Java initializers where Java can say them
(numbers, strings, enum constants, empty collections). No I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.provider.contract import JavaClass, JavaField, JavaKind, JavaMethod, ServiceContract
from dubbo_recsys.provider.javaapi.errors import JavaApiError
from dubbo_recsys.provider.javatype import JavaType
from hessian2 import JavaException
from hessian2._throwable import exception_fields

__all__ = ["JAVA_KEYWORDS", "TypeDecl", "class_decl", "interface_decl", "java_file"]

# reserved words and literals (JLS 3.9); var, record and yield are names Java allows for members
_RESERVED_WORDS = (
    "abstract assert boolean break byte case catch char class const continue default do double else enum extends "
    "final finally float for goto if implements import instanceof int interface long native new package private "
    "protected public return short static strictfp super switch synchronized this throw throws transient try void "
    "volatile true false null _"
)
JAVA_KEYWORDS = frozenset(_RESERVED_WORDS.split())
_COLLECTION_IMPLS = {
    "java.util.List": "java.util.ArrayList",
    "java.util.Collection": "java.util.ArrayList",
    "java.util.Set": "java.util.HashSet",
    "java.util.Map": "java.util.HashMap",
}
_CONCRETE = frozenset(_COLLECTION_IMPLS.values()) | {
    "java.util.LinkedHashMap",
    "java.util.TreeMap",
    "java.util.LinkedList",
}


@dataclass
class TypeDecl:
    """One Java type declaration: ``header`` (``public class Foo``), ``body`` lines
    (rendered against a namer), and the declarations nested inside it."""

    name: str  # binary name: pkg.Outer$Inner
    doc: str
    header: Callable[[_Namer], str]
    body: Callable[[_Namer], list[str]]
    nested: list[TypeDecl] = field(default_factory=list)

    @property
    def simple_name(self) -> str:
        return self.name.rpartition(".")[2].rpartition("$")[2]


def java_file(package: str, decls: Iterable[TypeDecl], header_comment: str, neighbours: Iterable[str] = ()) -> str:
    """The compilation unit of ``package`` declaring ``decls`` (top-level types); ``neighbours``
    are the package's other top-level types, whose simple names this file must leave to them."""
    namer = _Namer(package)
    for name in neighbours:
        namer.reserve(name)
    blocks = [_render(decl, namer, nested=False) for decl in decls]
    lines = [f"// {header_comment}", f"package {package};", ""]
    if namer.imports:
        lines.extend([*(f"import {name};" for name in sorted(namer.imports)), ""])
    for block in blocks:
        lines.extend([*block, ""])
    return "\n".join(lines).rstrip("\n") + "\n"


def _render(decl: TypeDecl, namer: _Namer, *, nested: bool) -> list[str]:
    header = decl.header(namer)
    if nested:
        header = header.replace("public ", "public static ", 1)
    lines = [*_javadoc(decl.doc), header + " {"]
    body = decl.body(namer)
    for child in decl.nested:
        body.extend(["", *_render(child, namer, nested=True)])
    lines.extend("    " + line if line else "" for line in _trim(body))
    lines.append("}")
    return lines


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


class _Namer:
    """Java source spellings of types for one file, collecting its imports: the first type
    to use a simple name gets it (imported unless it is in ``java.lang`` or this package)."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.imports: set[str] = set()
        self.simple: dict[str, str] = {}  # simple name -> the top-level class it means here

    def reserve(self, top_level: str) -> None:
        self.simple.setdefault(top_level.rpartition(".")[2], top_level)

    def text(self, java: JavaType) -> str:
        name = java.name
        if name.endswith("[]"):
            return self.text(JavaType(name[:-2])) + "[]"
        if "." not in name:
            return name  # a primitive or void
        top, _, inner = name.partition("$")
        simple = top.rpartition(".")[2]
        owner = self.simple.setdefault(simple, top)
        if owner == top:
            if top.rpartition(".")[0] not in (self.package, "java.lang"):
                self.imports.add(top)
            spelled = simple
        else:
            spelled = top
        if inner:
            spelled += "." + inner.replace("$", ".")
        if java.args:
            spelled += "<" + ", ".join(self.text(arg) for arg in java.args) + ">"
        return spelled


def _javadoc(text: str, indent: str = "") -> list[str]:
    text = text.strip()
    if not text:
        return []
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    body = [_javadoc_text(p) for p in paragraphs]
    lines = [body[0], *(f"<p>{p}" for p in body[1:])]
    if len(lines) == 1 and len(lines[0]) < 100:
        return [f"{indent}/** {lines[0].replace(_KEEP, ' ')} */"]
    wrapped = [w.replace(_KEEP, " ") for line in lines for w in _wrap(line, 100)]
    return [f"{indent}/**", *(f"{indent} * {w}" for w in wrapped), f"{indent} */"]


def _wrap(line: str, width: int) -> list[str]:
    out, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*out, current] if current else out


def _javadoc_text(paragraph: str) -> str:
    parts = re.split(r"(``[^`]+``|`[^`]+`)", paragraph)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(_code(part.strip("`")))
        else:
            out.append(_html(part))
    return "".join(out)


def _html(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "&#92;").replace("@", "&#64;").replace("*/", "*&#47;")
    return text


_KEEP = "\x00"  # a space inside a code span: never a line break


def _code(text: str) -> str:
    balanced = text.count("{") == text.count("}") and "}" not in text.split("{")[0]
    if balanced and not any(bad in text for bad in ("\\", "*/", "@", _KEEP)):
        return ("{@code " + text + "}").replace(" ", _KEEP)
    return ("<code>" + _html(text) + "</code>").replace(" ", _KEEP)


def _identifier(name: str, what: str) -> str:
    if name in JAVA_KEYWORDS or not name.isidentifier():
        raise JavaApiError(f"{what} {name!r} cannot be declared in Java (a Java keyword or no identifier)")
    return name


def _parameter(name: str, taken: set[str]) -> str:
    candidate = f"{name}_" if name in JAVA_KEYWORDS else name
    while candidate in taken:
        candidate += "_"
    taken.add(candidate)
    return candidate


_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "'": "\\'", "\\": "\\\\"}


def _string(text: str, quote: str = '"') -> str:
    """A Java string (or char) literal. Control characters are escaped as the lexer reads them
    (a \\u000a escape would become a line break before the lexer sees the literal); other
    non-ASCII characters as \\u escapes, so the file is ASCII whatever javac's encoding."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES and (ch != "'" or quote == "'"):
            out.append(_ESCAPES[ch])
        elif code < 32 or code == 127:
            out.append(f"\\{code:03o}")
        elif code < 127:
            out.append(ch)
        elif code > 0xFFFF:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            out.append(f"\\u{high:04x}\\u{low:04x}")
        else:
            out.append(f"\\u{code:04x}")
    return quote + "".join(out) + quote


# ---------------------------------------------------------------- interfaces


def interface_decl(contract: ServiceContract) -> TypeDecl:
    """The Java interface of ``contract`` (with ``VERSION``/``GROUP`` constants when set)."""
    for method in contract.methods:
        _identifier(method.name, f"{contract.interface}: method")

    def body(namer: _Namer) -> list[str]:
        lines: list[str] = []
        simple = contract.interface.rpartition(".")[2].rpartition("$")[2]
        if contract.version:
            lines += [
                f"/** The version this interface is served at: {{@code setVersion({simple}.VERSION)}}. */",
                f"String VERSION = {_string(contract.version)};",
                "",
            ]
        if contract.group:
            lines += ["/** The Dubbo group it is served in. */", f"String GROUP = {_string(contract.group)};", ""]
        for method in contract.methods:
            lines += [*_javadoc(method.doc), *_method_lines(method, namer), ""]
        return lines

    return TypeDecl(
        contract.interface, contract.doc, lambda namer: f"public interface {_simple(contract.interface)}", body
    )


def _method_lines(method: JavaMethod, namer: _Namer) -> list[str]:
    taken: set[str] = set()
    params = [f"{namer.text(p.type)} {_parameter(p.name, taken)}" for p in method.parameters]
    throws = f" throws {', '.join(namer.text(t) for t in method.throws)}" if method.throws else ""
    return _signature(f"{namer.text(method.returns)} {method.name}(", params, f"){throws};")


def _signature(head: str, params: list[str], tail: str) -> list[str]:
    """``head`` + parameters + ``tail`` on one line, or one parameter a line when that is over 110."""
    line = head + ", ".join(params) + tail
    if len(line) <= 110 or not params:
        return [line]
    return [head, *(f"        {p}," for p in params[:-1]), f"        {params[-1]}{tail}"]


def _simple(name: str) -> str:
    return name.rpartition(".")[2].rpartition("$")[2]


# ---------------------------------------------------------------- classes


def class_decl(model: JavaClass) -> TypeDecl:
    """The Java declaration of a bound POJO, enum or exception."""
    simple = _identifier(_simple(model.name), "class")
    if model.kind is JavaKind.ENUM:
        constants = [_identifier(c, f"{model.name}: enum constant") for c in model.constants]
        return TypeDecl(
            model.name, model.doc, lambda namer: f"public enum {simple}", lambda namer: [", ".join(constants)]
        )
    for item in model.fields:
        _identifier(item.name, f"{model.name}: field")
    if model.kind is JavaKind.EXCEPTION:
        return TypeDecl(
            model.name, model.doc, _class_header(model, simple), lambda namer: _exception_body(model, namer)
        )
    return TypeDecl(model.name, model.doc, _class_header(model, simple), lambda namer: _pojo_body(model, namer))


def _class_header(model: JavaClass, simple: str) -> Callable[[_Namer], str]:
    def header(namer: _Namer) -> str:
        extends = f" extends {namer.text(JavaType(model.superclass))}" if model.superclass else ""
        serializable = "" if model.superclass else f" implements {namer.text(JavaType('java.io.Serializable'))}"
        return f"public class {simple}{extends}{serializable}"

    return header


def _pojo_body(model: JavaClass, namer: _Namer) -> list[str]:
    simple = _simple(model.name)
    defaults = _dataclass_defaults(model.python)
    lines = ["private static final long serialVersionUID = 1L;", ""]
    lines += _field_lines(model.fields, defaults, namer)
    lines += [f"public {simple}() {{", "}", ""]
    if model.fields and not model.superclass:
        params = [f"{namer.text(f.type)} {f.name}" for f in model.fields]
        lines += [
            *_signature(f"public {simple}(", params, ") {"),
            *(f"    this.{f.name} = {f.name};" for f in model.fields),
        ]
        lines += ["}", ""]
    lines += _accessors(model.fields, namer)
    return lines


def _exception_body(model: JavaClass, namer: _Namer) -> list[str]:
    simple = _simple(model.name)
    defaults = {n: d for n, (d, _spec) in exception_fields(model.python).items()} if _is_exception(model) else {}
    cause = namer.text(JavaType("java.lang.Throwable"))
    lines = ["private static final long serialVersionUID = 1L;", ""]
    lines += _field_lines(model.fields, defaults, namer)
    lines += [
        f"public {simple}() {{",
        "}",
        "",
        f"public {simple}(String message) {{",
        "    super(message);",
        "}",
        "",
        f"public {simple}(String message, {cause} cause) {{",
        "    super(message, cause);",
        "}",
        "",
    ]
    lines += _accessors(model.fields, namer)
    return lines


def _is_exception(model: JavaClass) -> bool:
    return isinstance(model.python, type) and issubclass(model.python, JavaException)


def _field_lines(fields: Iterable[JavaField], defaults: dict[str, Any], namer: _Namer) -> list[str]:
    lines: list[str] = []
    for item in fields:
        initializer = _initializer(item.type, defaults.get(item.name), namer)
        lines += [*_javadoc(item.doc), f"private {namer.text(item.type)} {item.name}{initializer};"]
    return [*lines, ""] if lines else []


def _accessors(fields: Iterable[JavaField], namer: _Namer) -> list[str]:
    lines: list[str] = []
    for item in fields:
        spelled = namer.text(item.type)
        prop = item.name[:1].upper() + item.name[1:]
        getter = f"is{prop}" if item.type.name == "boolean" else f"get{prop}"
        lines += [
            *_javadoc(item.doc),
            f"public {spelled} {getter}() {{",
            f"    return {item.name};",
            "}",
            "",
            f"public void set{prop}({spelled} {item.name}) {{",
            f"    this.{item.name} = {item.name};",
            "}",
            "",
        ]
    return lines


_FACTORY = object()  # marks a default_factory in the defaults table


def _dataclass_defaults(cls: type) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    if not dataclasses.is_dataclass(cls):
        return defaults
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            defaults[item.name] = (_FACTORY, item.default_factory)
    return defaults


def _initializer(java: JavaType, default: Any, namer: _Namer) -> str:
    """`` = <literal>`` for a Python default Java can state, else "" (Java's own default)."""
    literal = _literal(java, default, namer)
    return f" = {literal}" if literal else ""


def _literal(java: JavaType, value: Any, namer: _Namer) -> str:
    if value is None:
        return ""
    name = java.boxed().name if java.is_primitive else java.name
    if isinstance(value, tuple) and len(value) == 2 and value[0] is _FACTORY:
        return _empty(java, value[1], namer)
    if isinstance(value, bool):
        return ("true" if value else "") if java.is_primitive else ("true" if value else "false")
    if isinstance(value, enum.Enum) and getattr(type(value), "__java_class__", "") == java.name:
        return f"{namer.text(java)}.{value.name}"
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0 and java.is_primitive:
            return ""
        suffix = {"java.lang.Long": "L", "java.lang.Float": "f", "java.lang.Double": ".0"}.get(name, "")
        cast = {"java.lang.Short": "(short) ", "java.lang.Byte": "(byte) "}.get(name, "")
        if name in ("java.lang.Integer", "java.lang.Long", "java.lang.Short", "java.lang.Byte") or suffix:
            return f"{cast}{int.__repr__(value)}{suffix}"  # int's own repr: Short(3) is 3
        return ""
    if isinstance(value, float) and name in ("java.lang.Double", "java.lang.Float") and math.isfinite(value):
        if value == 0.0 and java.is_primitive:
            return ""
        return float.__repr__(value) + ("f" if name == "java.lang.Float" else "")
    if isinstance(value, str) and name == "java.lang.String":
        return _string(value)
    if isinstance(value, str) and name == "java.lang.Character" and len(value) == 1:
        return "" if value == "\0" and java.is_primitive else _string(value, "'")
    return ""


def _empty(java: JavaType, factory: Any, namer: _Namer) -> str:
    """``new ArrayList<>()`` for an empty-collection factory, ``new Price()`` for a bound class."""
    if java.is_array and factory in (list, tuple, bytes, bytearray):
        return f"new {namer.text(JavaType(java.name[:-2]))}[0]"
    impl = _COLLECTION_IMPLS.get(java.name) or (java.name if java.name in _CONCRETE else "")
    if impl and factory in (list, set, dict, tuple, frozenset):
        return f"new {namer.text(JavaType(impl))}<>()"
    if isinstance(factory, type) and getattr(factory, "__java_class__", "") == java.name:
        return f"new {namer.text(JavaType(java.name))}()"
    return ""
