"""The Java contract of a service class, as data: what Java sees, derived once from the hints.

``contract_of(OrderService)`` reads a ``provider.service.Service`` subclass and returns a
``ServiceContract``: the interface, version and group, and each Java method with its
parameters' and return's ``JavaType`` (generic arguments included), overloads as
separate methods, ``throws`` and docstrings. ``contract.classes()`` lists the bound
classes the contract reaches (POJOs, enums, exceptions: parameters, returns, fields,
``throws`` and superclasses, transitively), each a ``JavaClass`` with its fields, enum
constants, superclass and docstrings, JDK classes left out. This is everything a
generator of the Java API needs, and what the dispatcher and registry are built from.

Docstrings: a class's and a method's ``__doc__``; a field's is the string literal right
after its annotation in the class body (the convention Sphinx reads), when the source
is available.

``Export`` binds a contract to the object that implements it. Nothing here does I/O
(beyond reading a class's source for field docstrings) or touches bytes.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import inspect
import itertools
import linecache
import sys
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dubbo_recsys.provider.descriptor import to_descriptor
from dubbo_recsys.provider.errors import ServiceSpecError
from dubbo_recsys.provider.javatype import JavaType, JavaTypeError, bound_java_class, java_type_of, unwrap_hint
from dubbo_recsys.provider.service import MethodOptions, Service
from hessian2 import JavaEnum, JavaException, JavaObject
from hessian2._throwable import exception_fields

__all__ = [
    "Export",
    "JavaClass",
    "JavaField",
    "JavaKind",
    "JavaMethod",
    "JavaParameter",
    "ServiceContract",
    "contract_of",
    "export_of",
    "java_class_of",
]

_JDK_PREFIXES = ("java.", "javax.")
_THROWABLE_ROOT = "java.lang.RuntimeException"


@dataclass(frozen=True, slots=True)
class JavaParameter:
    """One parameter: its Python name (the Java parameter name too), Java type and hint."""

    name: str
    type: JavaType
    hint: Any
    nullable: bool  # the hint says ``| None``: null is passed as None, else refused


@dataclass(frozen=True, slots=True)
class JavaMethod:
    """One Java method (one overload) and the Python attribute that answers it."""

    name: str
    python_name: str
    parameters: tuple[JavaParameter, ...]
    returns: JavaType  # VOID for a return hint of None
    return_hint: Any
    throws: tuple[JavaType, ...]
    doc: str
    is_async: bool

    @property
    def descriptor(self) -> str:
        """The parameter descriptor a Dubbo request carries (``Ljava/lang/String;J``)."""
        return to_descriptor(p.type.name for p in self.parameters)

    @property
    def signature(self) -> str:
        """``find(long)``: name and erased parameter types, as Java names an overload."""
        return f"{self.name}({', '.join(p.type.name for p in self.parameters)})"


@dataclass(frozen=True)
class ServiceContract:
    """A Java interface as a service class declares it (``version``/``group`` empty when unset)."""

    interface: str
    version: str
    group: str
    methods: tuple[JavaMethod, ...]
    doc: str
    service: type

    @property
    def method_names(self) -> tuple[str, ...]:
        """Distinct Java method names in declaration order (the registry's ``methods=``)."""
        return tuple(dict.fromkeys(m.name for m in self.methods))

    def classes(self) -> tuple[JavaClass, ...]:
        """Every non-JDK bound class this contract reaches, each once, dependencies first."""
        return self._classes

    @cached_property
    def _classes(self) -> tuple[JavaClass, ...]:
        found: dict[type, JavaClass] = {}
        for method in self.methods:
            for hint in (*(p.hint for p in method.parameters), method.return_hint):
                _collect(hint, found)
            for thrown in _options(getattr(self.service, method.python_name)).throws:
                _collect(thrown, found)
        return tuple(found.values())


class JavaKind(enum.Enum):
    CLASS = "class"
    ENUM = "enum"
    EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class JavaField:
    """One field of a POJO or exception, in declaration order."""

    name: str
    type: JavaType
    hint: Any
    doc: str


@dataclass(frozen=True)
class JavaClass:
    """A bound POJO, enum or exception class as Java declares it.

    ``superclass`` is the Java superclass ("" = ``java.lang.Object``; an exception's is
    ``java.lang.RuntimeException`` unless it extends another bound exception);
    ``fields`` are the class's own (a bound superclass declares the rest);
    ``constants`` are an enum's constant names in order."""

    name: str
    kind: JavaKind
    python: type
    doc: str
    superclass: str
    fields: tuple[JavaField, ...] = ()
    constants: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def simple_name(self) -> str:
        return self.name.rpartition(".")[2]

    @property
    def is_jdk(self) -> bool:
        return self.name.startswith(_JDK_PREFIXES)


def contract_of(service: type[Service] | Service) -> ServiceContract:
    """The contract of a service class (or of an instance's class); cached, checked once.

    Raises ``ServiceSpecError`` naming the class and method for a missing interface, a
    missing or meaningless hint, ``*args``, or two methods with one Java signature."""
    cls = service if isinstance(service, type) else type(service)
    if not (isinstance(cls, type) and issubclass(cls, Service)) or cls is Service:
        raise ServiceSpecError(f"{cls!r} is not a Service subclass")
    found = cls.__dict__.get("_contract")
    if found is None:
        found = _build_contract(cls)
        cls._contract = found  # type: ignore[attr-defined]  # the contract cached on its class
    return found


def _build_contract(cls: type[Service]) -> ServiceContract:
    if not cls.__java_interface__:
        raise ServiceSpecError(
            f'{cls.__name__} names no Java interface: class {cls.__name__}(Service, interface="...")'
        )
    methods = []
    seen: dict[tuple[str, str], str] = {}
    for attr, func in _public_functions(cls).items():
        method = _method(cls, attr, func)
        key = (method.name, method.descriptor)
        if key in seen:
            raise ServiceSpecError(
                f"{cls.__name__}.{attr} and .{seen[key]} are both Java {method.signature}: "
                "Python cannot tell them apart; name the Java types with Annotated[..., Java(...)]"
            )
        seen[key] = attr
        methods.append(method)
    if not methods:
        raise ServiceSpecError(f"{cls.__name__} has no public methods: nothing to export")
    return ServiceContract(
        interface=cls.__java_interface__,
        version=cls.__java_version__,
        group=cls.__java_group__,
        methods=tuple(methods),
        doc=inspect.getdoc(cls) or "",
        service=cls,
    )


def _public_functions(cls: type) -> dict[str, Any]:
    """Public plain functions of ``cls`` and its ``Service`` bases; a base's come first and
    an override keeps its base's place."""
    functions: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass is Service or not issubclass(klass, Service):
            continue
        functions.update(
            (attr, value)
            for attr, value in vars(klass).items()
            if not attr.startswith("_") and inspect.isfunction(value)
        )
    return functions


def _options(func: Any) -> MethodOptions:
    options = getattr(func, "__java_method__", None)
    return options if isinstance(options, MethodOptions) else MethodOptions()


def _method(cls: type, attr: str, func: Any) -> JavaMethod:
    where = f"{cls.__name__}.{attr}"
    options = _options(func)
    name = options.name or attr
    if not name.isidentifier() or name.startswith("$"):
        raise ServiceSpecError(f"{where}: bad Java method name {name!r}")
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # a NameError in a forward reference, typically
        raise ServiceSpecError(f"{where}: cannot resolve its type hints: {exc}") from exc
    parameters = []
    for index, param in enumerate(inspect.signature(func).parameters.values()):
        if index == 0:
            continue  # self
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            raise ServiceSpecError(f"{where}: parameter {param.name!r} is not positional; a Java parameter is")
        if param.name not in hints:
            raise ServiceSpecError(f"{where}: parameter {param.name!r} has no type hint (the hint is its Java type)")
        hint = hints[param.name]
        java = _java(where, f"parameter {param.name!r}", hint)
        if java.is_void:
            raise ServiceSpecError(f"{where}: parameter {param.name!r} cannot be None (void)")
        parameters.append(JavaParameter(param.name, java, hint, unwrap_hint(hint)[2]))
    if "return" not in hints:
        raise ServiceSpecError(f"{where}: no return hint (write -> None for a void method)")
    return_hint = hints["return"]
    return JavaMethod(
        name=name,
        python_name=attr,
        parameters=tuple(parameters),
        returns=_java(where, "return", return_hint),
        return_hint=return_hint,
        throws=tuple(JavaType(exc.__java_class__) for exc in options.throws),
        doc=inspect.getdoc(func) or "",
        is_async=inspect.iscoroutinefunction(func),
    )


def _java(where: str, what: str, hint: Any) -> JavaType:
    try:
        return java_type_of(hint)
    except JavaTypeError as exc:
        raise ServiceSpecError(f"{where}: {what}: {exc}") from None


# ---------------------------------------------------------------- bound classes


def java_class_of(cls: type) -> JavaClass:
    """The model of one bound class (``JavaObject`` dataclass, ``JavaEnum``, ``JavaException``)."""
    java_name = bound_java_class(cls)
    if not java_name:
        raise ServiceSpecError(f"{cls.__qualname__} is not bound to a Java class")
    doc = _own_doc(cls)
    if issubclass(cls, JavaException):
        declared = exception_fields(cls)
        own = [n for n in declared if n in inspect.get_annotations(cls)]
        return JavaClass(java_name, JavaKind.EXCEPTION, cls, doc, _bound_base(cls), _fields(cls, own))
    if issubclass(cls, enum.Enum):
        return JavaClass(java_name, JavaKind.ENUM, cls, doc, "", constants=tuple(cls.__members__))
    if not dataclasses.is_dataclass(cls):
        raise ServiceSpecError(f"{cls.__qualname__} is a JavaObject but not a dataclass")
    base = _bound_base(cls)
    inherited = {f.name for b in cls.__mro__[1:] if dataclasses.is_dataclass(b) for f in dataclasses.fields(b)}
    own = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_") and not (base and f.name in inherited)]
    return JavaClass(java_name, JavaKind.CLASS, cls, doc, base, _fields(cls, own))


def _own_doc(cls: type) -> str:
    doc = cls.__dict__.get("__doc__")
    if not doc or (dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(")):
        return ""  # dataclass's generated signature is no documentation
    return inspect.cleandoc(doc)


def _bound_base(cls: type) -> str:
    """The Java class of the nearest bound Python base ("" for a POJO with none)."""
    for base in cls.__mro__[1:]:
        if base is JavaException:
            return _THROWABLE_ROOT
        if "__java_class__" in base.__dict__ and bound_java_class(base) and base not in (JavaObject, JavaEnum):
            return bound_java_class(base)
    return ""


def _fields(cls: type, names: list[str]) -> tuple[JavaField, ...]:
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:
        raise ServiceSpecError(f"{cls.__qualname__}: cannot resolve its field hints: {exc}") from exc
    docs = _attribute_docs(cls)
    fields = []
    for name in names:
        try:
            java = java_type_of(hints[name])
        except JavaTypeError as exc:
            raise ServiceSpecError(f"{cls.__qualname__}.{name}: {exc}") from None
        fields.append(JavaField(name, java, hints[name], docs.get(name, "")))
    return tuple(fields)


def _attribute_docs(cls: type) -> Mapping[str, str]:
    """``name -> docstring`` for annotated attributes followed by a string literal."""
    try:
        filename = inspect.getsourcefile(cls)
    except (OSError, TypeError):
        return {}
    if filename is None:
        return {}
    module = sys.modules.get(cls.__module__)
    source = "".join(linecache.getlines(filename, module.__dict__ if module else None))
    return _module_attribute_docs(source).get(cls.__qualname__, {})


@functools.lru_cache(maxsize=16)
def _module_attribute_docs(source: str) -> Mapping[str, Mapping[str, str]]:
    """Every class's attribute docstrings in a module's source, by qualified name, parsed once
    per module: an imported API's bindings are hundreds of classes in one module, and parsing
    it again for each class (as ``inspect.getsource`` does) made their contracts take minutes."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, Mapping[str, str]] = {}

    def visit(nodes: Iterable[ast.AST], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                found[prefix + node.name] = _docs_after_annotations(node.body)
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, f"{prefix}{node.name}.<locals>.")
            elif isinstance(node, ast.stmt):
                visit(ast.iter_child_nodes(node), prefix)  # if/try/with blocks add nothing to a qualname

    visit(tree.body, "")
    return found


def _docs_after_annotations(body: list[ast.stmt]) -> dict[str, str]:
    docs = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _collect(hint: Any, found: dict[type, JavaClass], visiting: set[type] | None = None) -> None:
    """Add the bound classes ``hint`` names (and theirs, transitively) to ``found``,
    superclasses and field types before the class itself."""
    visiting = set() if visiting is None else visiting
    bare = unwrap_hint(hint)[0] if hint is not None else None
    for arg in typing.get_args(bare):
        _collect(arg, found, visiting)
    if not isinstance(bare, type) or bare in found or bare in visiting or not bound_java_class(bare):
        return
    visiting.add(bare)
    model = java_class_of(bare)
    for base in bare.__mro__[1:]:
        if model.superclass and "__java_class__" in base.__dict__ and bound_java_class(base) == model.superclass:
            _collect(base, found, visiting)
            break
    for field in model.fields:
        _collect(field.hint, found, visiting)
    if not model.is_jdk:
        found[bare] = model


# ---------------------------------------------------------------- exports


@dataclass(frozen=True)
class Export:
    """A contract bound to the object implementing it (what the dispatcher routes to)."""

    contract: ServiceContract
    implementation: Any

    def __post_init__(self) -> None:
        for method in self.contract.methods:
            if not callable(getattr(self.implementation, method.python_name, None)):
                raise ServiceSpecError(
                    f"{type(self.implementation).__name__} has no method {method.python_name!r} "
                    f"for {self.contract.interface}.{method.name}"
                )


def export_of(service: Service) -> Export:
    """The export of a service object (its class's contract, checked)."""
    if isinstance(service, type):
        raise ServiceSpecError(f"{service.__name__} is a class; export an instance: {service.__name__}(...)")
    return Export(contract_of(service), service)
