"""Java types from class files: descriptors and generic signatures -> ``JavaType``.

A member's descriptor gives its erased types; its ``Signature`` attribute, when present,
the generic ones. The signature grammar (JVMS 4.7.9.1), with ``{x}`` for zero or more::

    JavaTypeSignature       ReferenceTypeSignature | BaseType (B C D F I J S Z)
    ReferenceTypeSignature  ClassTypeSignature | TypeVariableSignature | ArrayTypeSignature
    ClassTypeSignature      L [pkg/ {pkg/}] SimpleClassTypeSignature {. SimpleClassTypeSignature} ;
    SimpleClassTypeSignature  Identifier [< TypeArgument {TypeArgument} >]
    TypeArgument            [+ | -] ReferenceTypeSignature | *
    TypeVariableSignature   T Identifier ;
    ArrayTypeSignature      [ JavaTypeSignature
    ClassSignature          [TypeParameters] SuperclassSignature {SuperinterfaceSignature}
    MethodSignature         [TypeParameters] ( {JavaTypeSignature} ) (JavaTypeSignature | V)
                            {^ ClassTypeSignature | ^ TypeVariableSignature}
    TypeParameters          < Identifier : [ReferenceTypeSignature] {: ReferenceTypeSignature} ... >

What Python can use of a generic type is what a value of it can be, so: a type
variable is the erasure of its bound (``T`` -> ``java.lang.Object``, ``T extends
Number`` -> ``java.lang.Number``), ``? extends X`` is ``X``, ``?`` and ``? super X`` are
``java.lang.Object``, a generic array is its erasure. Nested type arguments are
bounded (``MAX_DEPTH``), so a hostile signature is an error, not a recursion crash.
Descriptors are parsed by ``provider.descriptor`` (one grammar, one parser). No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dubbo_recsys.provider.descriptor import parse_descriptor
from dubbo_recsys.provider.errors import DescriptorError
from dubbo_recsys.provider.javaapi.errors import ClassFileError
from dubbo_recsys.provider.javatype import VOID, JavaType

__all__ = ["MAX_DEPTH", "MethodType", "class_type_parameters", "field_type", "method_type"]

MAX_DEPTH = 32  # nested type arguments and arrays; real APIs use a handful
_OBJECT = JavaType("java.lang.Object")
_BASE = {"B": "byte", "C": "char", "D": "double", "F": "float", "I": "int", "J": "long", "S": "short", "Z": "boolean"}
_IDENTIFIER_END = frozenset(".;[/<>:")


@dataclass(frozen=True, slots=True)
class MethodType:
    """A method's parameter and return types, generic where the class file says so, and
    what its signature says it throws (type variables erased)."""

    parameters: tuple[JavaType, ...]
    returns: JavaType
    throws: tuple[JavaType, ...] = ()


def field_type(descriptor: str, signature: str = "", type_vars: Mapping[str, JavaType] | None = None) -> JavaType:
    """A field's type: its generic ``signature`` if any, else its ``descriptor``."""
    erased = _descriptor_types(descriptor, descriptor)
    if len(erased) != 1:
        raise ClassFileError(f"field descriptor {descriptor!r} names {len(erased)} types")
    if not signature:
        return erased[0]
    parser = _Parser(signature, dict(type_vars or {}))
    found = parser.java_type(0)
    parser.end()
    return _agreeing(found, erased[0])


def method_type(descriptor: str, signature: str = "", type_vars: Mapping[str, JavaType] | None = None) -> MethodType:
    """A method's types: the generic ``signature`` where it agrees with the ``descriptor``
    (same number of parameters), else the descriptor's erased types."""
    if not descriptor.startswith("(") or ")" not in descriptor:
        raise ClassFileError(f"bad method descriptor {descriptor[:200]!r}")
    params_text, _, return_text = descriptor[1:].partition(")")
    params = _descriptor_types(params_text, descriptor)
    returns = VOID if return_text == "V" else _single(return_text, descriptor)
    erased = MethodType(params, returns)
    if not signature:
        return erased
    scope = dict(type_vars or {})
    parser = _Parser(signature, scope)
    if parser.peek() == "<":
        scope.update(parser.type_parameters())
    parser.expect("(")
    generic: list[JavaType] = []
    while parser.peek() != ")":
        generic.append(parser.java_type(0))
    parser.expect(")")
    generic_return = VOID if parser.accept("V") else parser.java_type(0)
    throws: list[JavaType] = []
    while parser.accept("^"):
        throws.append(parser.reference(0))
    parser.end()
    if len(generic) != len(params):  # javac leaves out synthetic parameters; trust the descriptor
        return erased
    return MethodType(
        tuple(_agreeing(g, e) for g, e in zip(generic, params, strict=True)),
        _agreeing(generic_return, returns),
        tuple(throws),
    )


def class_type_parameters(signature: str) -> dict[str, JavaType]:
    """A class signature's type variables and the erasure of each one's bound."""
    if not signature.startswith("<"):
        return {}
    return _Parser(signature, {}).type_parameters()


def _descriptor_types(text: str, whole: str) -> tuple[JavaType, ...]:
    try:
        return tuple(JavaType(name) for name in parse_descriptor(text))
    except DescriptorError as exc:
        raise ClassFileError(f"bad descriptor {whole[:200]!r}: {exc}") from None


def _single(text: str, whole: str) -> JavaType:
    found = _descriptor_types(text, whole)
    if len(found) != 1:
        raise ClassFileError(f"bad descriptor {whole[:200]!r}: one return type expected")
    return found[0]


def _agreeing(generic: JavaType, erased: JavaType) -> JavaType:
    """The generic type when its erasure is the descriptor's, else the descriptor's type
    (a signature is advisory: the JVM links by descriptor, and so does Dubbo)."""
    return generic if generic.name == erased.name else erased


class _Parser:
    """Recursive descent over one signature; ``depth`` bounds the nesting."""

    __slots__ = ("pos", "text", "type_vars")

    def __init__(self, text: str, type_vars: dict[str, JavaType]) -> None:
        self.text, self.pos, self.type_vars = text, 0, type_vars

    def fail(self, message: str) -> ClassFileError:
        shown = self.text if len(self.text) <= 200 else self.text[:200] + "..."
        return ClassFileError(f"bad generic signature {shown!r}: {message} at {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def accept(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.accept(char):
            raise self.fail(f"expected {char!r}, found {self.peek() or 'the end'!r}")

    def end(self) -> None:
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the type")

    def identifier(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _IDENTIFIER_END:
            self.pos += 1
        if self.pos == start:
            raise self.fail("expected an identifier")
        return self.text[start : self.pos]

    def type_parameters(self) -> dict[str, JavaType]:
        self.expect("<")
        found: dict[str, JavaType] = {}
        while not self.accept(">"):
            name = self.identifier()
            self.expect(":")
            bounds = []
            if self.peek() not in (":", ">", ""):
                bounds.append(self.reference(0))  # the class bound (absent for interface-only bounds)
            while self.accept(":"):
                bounds.append(self.reference(0))
            found[name] = JavaType(bounds[0].name) if bounds else _OBJECT
            self.type_vars.setdefault(name, found[name])  # later bounds may name earlier variables
        return found

    def java_type(self, depth: int) -> JavaType:
        code = self.peek()
        if code in _BASE:
            self.pos += 1
            return JavaType(_BASE[code])
        return self.reference(depth)

    def reference(self, depth: int) -> JavaType:
        if depth > MAX_DEPTH:
            raise self.fail(f"types nested more than {MAX_DEPTH} deep")
        code = self.peek()
        if code == "L":
            return self.class_type(depth)
        if code == "T":
            self.pos += 1
            name = self.identifier()
            self.expect(";")
            return self.type_vars.get(name, _OBJECT)
        if code == "[":
            self.pos += 1
            element = self.java_type(depth + 1)
            return JavaType(element.name + "[]")  # a generic array is its erasure
        raise self.fail(f"expected a type, found {code or 'the end'!r}")

    def class_type(self, depth: int) -> JavaType:
        self.expect("L")
        parts = [self.identifier()]
        while self.accept("/"):
            parts.append(self.identifier())
        name = ".".join(parts)
        args = self.type_arguments(depth)
        while self.accept("."):  # an inner class of a parameterized outer: Outer<T>.Inner<U>
            name += "$" + self.identifier()
            args = self.type_arguments(depth)
        self.expect(";")
        return JavaType(name, args)

    def type_arguments(self, depth: int) -> tuple[JavaType, ...]:
        if not self.accept("<"):
            return ()
        args: list[JavaType] = []
        while not self.accept(">"):
            if not self.peek():
                raise self.fail("unterminated type arguments")
            if self.accept("*"):  # ?
                args.append(_OBJECT)
            elif self.accept("-"):  # ? super X: what arrives is some supertype of X
                self.reference(depth + 1)
                args.append(_OBJECT)
            else:
                self.accept("+")  # ? extends X: values are Xs
                args.append(self.reference(depth + 1))
        if not args:
            raise self.fail("empty type arguments")
        return tuple(args)
