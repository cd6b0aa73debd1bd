"""Reading a Java class file without a JVM: the parts an API is made of.

``parse_class(data)`` returns a ``ClassFile``: the class's name, access flags,
superclass and interfaces, its fields and methods (name, descriptor, flags, and the
attributes an API needs), the generic ``Signature`` of each, and the
``InnerClasses`` table. Code, annotations, debug tables and every other attribute
are skipped by their length, unread. The layout (JVMS 4.1)::

    ClassFile    u4 magic 0xCAFEBABE, u2 minor, u2 major, u2 constant_pool_count,
                 cp_info constant_pool[count - 1], u2 access_flags, u2 this_class,
                 u2 super_class, u2 interfaces_count, u2 interfaces[],
                 u2 fields_count, member fields[], u2 methods_count, member methods[],
                 u2 attributes_count, attribute attributes[]
    cp_info      u1 tag, then by tag (JVMS 4.4): Utf8 (1) u2 length + modified UTF-8;
                 Integer (3), Float (4) u4; Long (5), Double (6) u8, and they take two
                 slots; Class (7), String (8), MethodType (16), Module (19), Package (20)
                 u2; Fieldref/Methodref/InterfaceMethodref (9-11), NameAndType (12),
                 Dynamic (17), InvokeDynamic (18) u2 u2; MethodHandle (15) u1 u2
    member       u2 access_flags, u2 name_index, u2 descriptor_index, u2 attributes_count,
                 attribute attributes[]
    attribute    u2 name_index, u4 length, u1 info[length]; the ones read here:
                 Signature        u2 signature_index (class, field, method)
                 Exceptions       u2 count, u2 class_index[count] (method)
                 MethodParameters u1 count, {u2 name_index (0: no name), u2 flags}[count]
                 ConstantValue    u2 index (field: a static final constant)
                 InnerClasses     u2 count, {u2 inner_class, u2 outer_class (0: local or
                                  anonymous), u2 inner_name (0: anonymous), u2 flags}[count]

Every read is bounds-checked and every index checked against the tag it must name,
so any input either parses or raises ``ClassFileError`` saying where; the work is
linear in the input's length (the caller bounds that: ``archive``). No I/O.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from dubbo_recsys.provider.javaapi.errors import ClassFileError

__all__ = ["Access", "ClassFile", "InnerClass", "Member", "parse_class"]

MAGIC = 0xCAFEBABE
_OLDEST_MAJOR = 45  # JDK 1.0.2


class Access(enum.IntFlag):
    """Access flags of classes, fields and methods (JVMS tables 4.1-B, 4.5-A, 4.6-A; shared bits)."""

    PUBLIC = 0x0001
    PRIVATE = 0x0002
    PROTECTED = 0x0004
    STATIC = 0x0008
    FINAL = 0x0010
    SUPER = 0x0020  # SYNCHRONIZED on methods
    BRIDGE = 0x0040  # VOLATILE on fields
    VARARGS = 0x0080  # TRANSIENT on fields
    NATIVE = 0x0100
    INTERFACE = 0x0200
    ABSTRACT = 0x0400
    STRICT = 0x0800
    SYNTHETIC = 0x1000
    ANNOTATION = 0x2000
    ENUM = 0x4000
    MODULE = 0x8000

    TRANSIENT = VARARGS
    VOLATILE = BRIDGE


@dataclass(frozen=True, slots=True)
class Member:
    """A field or method: ``descriptor`` as the JVM spells it (``(JLjava/lang/String;)V``),
    ``signature`` the generic one or ""; ``exceptions`` (methods) are dotted class names;
    ``parameter_names`` come from ``MethodParameters`` (compiled with ``-parameters``), empty
    otherwise; ``constant`` is a static final field's ``ConstantValue``."""

    name: str
    descriptor: str
    access: Access
    signature: str = ""
    exceptions: tuple[str, ...] = ()
    parameter_names: tuple[str, ...] = ()
    constant: str | int | float | None = None


@dataclass(frozen=True, slots=True)
class InnerClass:
    """One ``InnerClasses`` entry: ``inner`` (``pkg.Outer$Inner``) is a member of ``outer``
    ("" for a local or anonymous class) named ``simple_name`` ("" when anonymous)."""

    inner: str
    outer: str
    simple_name: str
    access: Access


@dataclass(frozen=True, slots=True)
class ClassFile:
    """What an API needs of one class file; class names are dotted binary names (``pkg.Outer$Inner``)."""

    name: str
    access: Access
    superclass: str  # "" for java.lang.Object and module-info
    interfaces: tuple[str, ...]
    fields: tuple[Member, ...]
    methods: tuple[Member, ...]
    signature: str
    inner_classes: tuple[InnerClass, ...]
    version: tuple[int, int]  # (major, minor)

    @property
    def is_interface(self) -> bool:
        return bool(self.access & Access.INTERFACE) and not self.access & Access.ANNOTATION

    @property
    def is_enum(self) -> bool:
        return bool(self.access & Access.ENUM) and self.superclass == "java.lang.Enum"

    @property
    def package(self) -> str:
        return self.name.rpartition(".")[0]


# constant pool tags -> (kind, payload bytes); Long and Double take two slots
_UTF8, _INTEGER, _FLOAT, _LONG, _DOUBLE, _CLASS, _STRING = 1, 3, 4, 5, 6, 7, 8
_PAYLOAD = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}
_U2 = struct.Struct(">H")
_U4 = struct.Struct(">I")


class _Reader:
    """Bounds-checked big-endian reads over ``data``; every failure names the offset."""

    __slots__ = ("data", "pos", "where")

    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.pos, self.where = data, 0, where

    def fail(self, message: str, at: int | None = None) -> ClassFileError:
        return ClassFileError(f"{self.where}: {message} at byte {self.pos if at is None else at}")

    def need(self, count: int, what: str) -> int:
        start = self.pos
        if start + count > len(self.data):
            raise self.fail(f"truncated: {what} needs {count} bytes, {len(self.data) - start} left")
        self.pos = start + count
        return start

    def u1(self, what: str) -> int:
        return self.data[self.need(1, what)]

    def u2(self, what: str) -> int:
        return int(_U2.unpack_from(self.data, self.need(2, what))[0])

    def u4(self, what: str) -> int:
        return int(_U4.unpack_from(self.data, self.need(4, what))[0])

    def take(self, count: int, what: str) -> bytes:
        start = self.need(count, what)
        return self.data[start : start + count]


class _Pool:
    """The constant pool: tags and raw entries, with typed, checked lookups."""

    __slots__ = ("entries", "reader", "tags")

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        count = reader.u2("constant_pool_count")
        self.tags: list[int] = [0] * max(count, 1)
        self.entries: list[object] = [None] * max(count, 1)
        index = 1
        while index < count:
            at = reader.pos
            tag = reader.u1("constant pool tag")
            self.tags[index] = tag
            if tag == _UTF8:
                self.entries[index] = _modified_utf8(reader.take(reader.u2("Utf8 length"), "Utf8 bytes"), reader, at)
            elif tag in _PAYLOAD:
                self.entries[index] = reader.take(_PAYLOAD[tag], f"constant #{index}")
            else:
                raise reader.fail(f"constant #{index} has unknown tag {tag}", at)
            index += 2 if tag in (_LONG, _DOUBLE) else 1

    def _entry(self, index: int, tag: int, what: str) -> object:
        if not 0 < index < len(self.tags) or self.tags[index] != tag:
            found = self.tags[index] if 0 < index < len(self.tags) else "out of range"
            raise self.reader.fail(f"{what} names constant #{index} (tag {found}), expected tag {tag}")
        return self.entries[index]

    def utf8(self, index: int, what: str) -> str:
        return str(self._entry(index, _UTF8, what))

    def class_name(self, index: int, what: str) -> str:
        raw = self._entry(index, _CLASS, what)
        assert isinstance(raw, bytes)
        internal = self.utf8(_U2.unpack(raw)[0], what)
        return _binary_name(internal, self.reader, what)

    def constant(self, index: int, what: str) -> str | int | float:
        tag = self.tags[index] if 0 < index < len(self.tags) else 0
        raw = self.entries[index] if tag else None
        if tag == _STRING and isinstance(raw, bytes):
            return self.utf8(_U2.unpack(raw)[0], what)
        if tag in (_INTEGER, _LONG) and isinstance(raw, bytes):
            return int.from_bytes(raw, "big", signed=True)
        if tag in (_FLOAT, _DOUBLE) and isinstance(raw, bytes):
            return float(struct.unpack(">f" if tag == _FLOAT else ">d", raw)[0])
        raise self.reader.fail(f"{what} names constant #{index}, which is not a constant value")


def _modified_utf8(raw: bytes, reader: _Reader, at: int) -> str:
    """JVMS 4.4.7: UTF-8 except that NUL is ``C0 80`` and a supplementary character is a
    surrogate pair, each half encoded on its own (three bytes)."""
    try:
        return raw.decode("utf-8")  # plain text decodes the same: the usual case
    except UnicodeDecodeError:
        pass
    try:
        text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeError:
        raise reader.fail("a Utf8 constant is not modified UTF-8", at) from None


_BAD_IN_NAME = frozenset(".;[<>")


def _binary_name(internal: str, reader: _Reader, what: str) -> str:
    """``a/b/C$D`` -> ``a.b.C$D`` (JVMS 4.2.1); an array class or an empty part is refused."""
    parts = internal.split("/")
    if not internal or any(not part or _BAD_IN_NAME.intersection(part) for part in parts):
        raise reader.fail(f"{what}: {internal[:200]!r} is not a class name")
    return ".".join(parts)


def _member_name(name: str, reader: _Reader, what: str) -> str:
    if not name or _BAD_IN_NAME.intersection(name.strip("<>")) or "/" in name:
        raise reader.fail(f"{what}: {name[:200]!r} is not a field or method name")
    return name


def parse_class(data: bytes, where: str = "class file") -> ClassFile:
    """Parse one class file (``where`` names it in errors); ``ClassFileError`` unless well formed."""
    reader = _Reader(bytes(data), where)
    if reader.u4("magic") != MAGIC:
        raise reader.fail("not a class file (no 0xCAFEBABE magic)", 0)
    minor, major = reader.u2("minor_version"), reader.u2("major_version")
    if major < _OLDEST_MAJOR:
        raise reader.fail(f"class file version {major}.{minor} is older than any JDK", 6)
    pool = _Pool(reader)
    access = Access(reader.u2("access_flags"))
    name = pool.class_name(reader.u2("this_class"), "this_class")
    super_index = reader.u2("super_class")
    superclass = pool.class_name(super_index, "super_class") if super_index else ""
    interfaces = tuple(
        pool.class_name(reader.u2("interface"), "interfaces") for _ in range(reader.u2("interfaces_count"))
    )
    fields = tuple(_member(reader, pool, "field") for _ in range(reader.u2("fields_count")))
    methods = tuple(_member(reader, pool, "method") for _ in range(reader.u2("methods_count")))
    signature = ""
    inner: tuple[InnerClass, ...] = ()
    for attr, body in _attributes(reader, pool, "class"):
        if attr == "Signature":
            signature = _signature(body, pool, reader, "class")
        elif attr == "InnerClasses":
            inner = _inner_classes(body, pool, reader)
    if reader.pos != len(reader.data):
        raise reader.fail(f"{len(reader.data) - reader.pos} bytes after the class file's end")
    return ClassFile(name, access, superclass, interfaces, fields, methods, signature, inner, (major, minor))


def _attributes(reader: _Reader, pool: _Pool, owner: str) -> list[tuple[str, _Reader]]:
    """The attributes of the item being read, each as its name and a reader over its body."""
    found = []
    for _ in range(reader.u2(f"{owner} attributes_count")):
        name = pool.utf8(reader.u2("attribute_name_index"), f"{owner} attribute name")
        length = reader.u4(f"{owner} attribute {name} length")
        start = reader.need(length, f"{owner} attribute {name}")
        body = _Reader(reader.data[start : start + length], f"{reader.where}, {owner} attribute {name}")
        found.append((name, body))
    return found


def _done(body: _Reader) -> None:
    if body.pos != len(body.data):
        raise body.fail(f"{len(body.data) - body.pos} bytes beyond its content")


def _signature(body: _Reader, pool: _Pool, reader: _Reader, owner: str) -> str:
    text = pool.utf8(body.u2("signature_index"), f"{owner} Signature")
    _done(body)
    return text


def _member(reader: _Reader, pool: _Pool, kind: str) -> Member:
    access = Access(reader.u2(f"{kind} access_flags"))
    name = _member_name(pool.utf8(reader.u2(f"{kind} name_index"), f"{kind} name"), reader, kind)
    descriptor = pool.utf8(reader.u2(f"{kind} descriptor_index"), f"{kind} {name} descriptor")
    signature, constant = "", None
    exceptions: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    for attr, body in _attributes(reader, pool, f"{kind} {name}"):
        if attr == "Signature":
            signature = _signature(body, pool, reader, f"{kind} {name}")
        elif attr == "Exceptions" and kind == "method":
            count = body.u2("number_of_exceptions")
            exceptions = tuple(pool.class_name(body.u2("exception"), f"{name} Exceptions") for _ in range(count))
            _done(body)
        elif attr == "MethodParameters" and kind == "method":
            count = body.u1("parameters_count")
            found = []
            for _ in range(count):
                index = body.u2("parameter name_index")
                body.u2("parameter access_flags")
                found.append(pool.utf8(index, f"{name} MethodParameters") if index else "")
            names = tuple(found)
            _done(body)
        elif attr == "ConstantValue" and kind == "field":
            constant = pool.constant(body.u2("constantvalue_index"), f"field {name} ConstantValue")
            _done(body)
    return Member(name, descriptor, access, signature, exceptions, names, constant)


def _inner_classes(body: _Reader, pool: _Pool, reader: _Reader) -> tuple[InnerClass, ...]:
    entries = []
    for _ in range(body.u2("number_of_classes")):
        inner = pool.class_name(body.u2("inner_class_info_index"), "InnerClasses inner class")
        outer_index, name_index = body.u2("outer_class_info_index"), body.u2("inner_name_index")
        access = Access(body.u2("inner_class_access_flags"))
        outer = pool.class_name(outer_index, "InnerClasses outer class") if outer_index else ""
        simple = pool.utf8(name_index, "InnerClasses inner name") if name_index else ""
        entries.append(InnerClass(inner, outer, simple, access))
    _done(body)
    return tuple(entries)
