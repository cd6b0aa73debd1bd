"""A tiny class-file assembler for tests: valid class files with exactly the parts a test names.

``ClassBytes("org/x/Foo")`` builds the constant pool as entries are asked for; ``field`` and
``method`` add members with optional Signature / Exceptions / MethodParameters / ConstantValue
attributes; ``build()`` returns the bytes. Only what the parser reads is supported.
"""

from __future__ import annotations

import struct


def _u2(value: int) -> bytes:
    return struct.pack(">H", value)


class ClassBytes:
    def __init__(self, name: str, superclass: str = "java/lang/Object", access: int = 0x0021) -> None:
        self.pool: list[bytes] = []
        self.slots = 1
        self.keys: dict[tuple[object, ...], int] = {}
        self.access = access
        self.this = self.klass(name)
        self.super = self.klass(superclass) if superclass else 0
        self.interfaces: list[int] = []
        self.fields: list[bytes] = []
        self.methods: list[bytes] = []
        self.attributes: list[bytes] = []

    def _add(self, key: tuple[object, ...], entry: bytes, slots: int = 1) -> int:
        if key not in self.keys:
            self.keys[key] = self.slots
            self.pool.append(entry)
            self.slots += slots
        return self.keys[key]

    def utf8(self, text: str) -> int:
        raw = text.encode("utf-8")
        return self._add(("utf8", text), b"\x01" + _u2(len(raw)) + raw)

    def raw_utf8(self, raw: bytes) -> int:
        return self._add(("raw", raw), b"\x01" + _u2(len(raw)) + raw)

    def klass(self, name: str) -> int:
        return self._add(("class", name), b"\x07" + _u2(self.utf8(name)))

    def string(self, text: str) -> int:
        return self._add(("string", text), b"\x08" + _u2(self.utf8(text)))

    def raw_string(self, raw: bytes) -> int:
        """A String constant whose Utf8 bytes are given as they are (modified UTF-8 tests)."""
        return self._add(("raw string", raw), b"\x08" + _u2(self.raw_utf8(raw)))

    def long(self, value: int) -> int:
        return self._add(("long", value), b"\x05" + struct.pack(">q", value), slots=2)

    def attribute(self, name: str, body: bytes) -> bytes:
        return _u2(self.utf8(name)) + struct.pack(">I", len(body)) + body

    def member(self, name: str, descriptor: str, access: int, attributes: list[bytes]) -> bytes:
        head = _u2(access) + _u2(self.utf8(name)) + _u2(self.utf8(descriptor)) + _u2(len(attributes))
        return head + b"".join(attributes)

    def field(self, name: str, descriptor: str, access: int = 0x0002, signature: str = "", constant: int = 0) -> None:
        attributes = []
        if signature:
            attributes.append(self.attribute("Signature", _u2(self.utf8(signature))))
        if constant:
            attributes.append(self.attribute("ConstantValue", _u2(constant)))
        self.fields.append(self.member(name, descriptor, access, attributes))

    def method(
        self,
        name: str,
        descriptor: str,
        access: int = 0x0401,
        signature: str = "",
        exceptions: tuple[str, ...] = (),
        parameters: tuple[str, ...] = (),
    ) -> None:
        attributes = []
        if signature:
            attributes.append(self.attribute("Signature", _u2(self.utf8(signature))))
        if exceptions:
            body = _u2(len(exceptions)) + b"".join(_u2(self.klass(e)) for e in exceptions)
            attributes.append(self.attribute("Exceptions", body))
        if parameters:
            body = bytes([len(parameters)]) + b"".join(_u2(self.utf8(p)) + _u2(0) for p in parameters)
            attributes.append(self.attribute("MethodParameters", body))
        attributes.append(self.attribute("Deprecated", b""))  # an attribute the parser skips
        self.methods.append(self.member(name, descriptor, access, attributes))

    def inner(self, inner: str, outer: str, simple: str, access: int = 0x0009) -> None:
        body = _u2(1) + _u2(self.klass(inner)) + _u2(self.klass(outer)) + _u2(self.utf8(simple)) + _u2(access)
        self.attributes.append(self.attribute("InnerClasses", body))

    def build(self, major: int = 52) -> bytes:
        head = struct.pack(">IHH", 0xCAFEBABE, 0, major) + _u2(self.slots) + b"".join(self.pool)
        body = _u2(self.access) + _u2(self.this) + _u2(self.super)
        body += _u2(len(self.interfaces)) + b"".join(_u2(i) for i in self.interfaces)
        body += _u2(len(self.fields)) + b"".join(self.fields)
        body += _u2(len(self.methods)) + b"".join(self.methods)
        body += _u2(len(self.attributes)) + b"".join(self.attributes)
        return head + body
