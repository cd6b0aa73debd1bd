"""A Java API as its class files declare it: service interfaces and the classes they reach.

``read_api(class_files)`` turns parsed class files into a ``JavaApi``: each service
interface (public, with methods) with its methods (overloads separate, generic types
from the signatures, ``throws`` from the ``Exceptions`` attribute, inherited interface
methods included, ``VERSION``/``GROUP`` string constants as the Dubbo version and
group), and every class those methods reach, transitively through fields and
superclasses: POJOs (their instance fields, as Hessian writes them: not static, not
transient, not synthetic), enums (their constants in order) and exceptions (a class
whose superclass chain reaches ``java.lang.Throwable``). JDK classes are left to the
type mapping; a non-JDK class the files do not contain is listed in ``missing``.

This is the Java side of the same contract ``provider.contract`` derives from Python
hints; ``pybindings`` writes it out as Python. No I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dubbo_recsys.provider.contract import JavaKind
from dubbo_recsys.provider.javaapi.classfile import Access, ClassFile, Member
from dubbo_recsys.provider.javaapi.errors import JavaApiError
from dubbo_recsys.provider.javaapi.signature import class_type_parameters, field_type, method_type
from dubbo_recsys.provider.javatype import JavaType

__all__ = ["ApiClass", "ApiField", "ApiMethod", "ApiParameter", "ApiService", "JavaApi", "is_service", "read_api"]

_JDK_PREFIXES = ("java.", "javax.", "jdk.", "sun.")
MAX_SUPERCLASSES = 64  # a deeper chain is no API (and each link costs a walk up it)
_THROWABLE = "java.lang.Throwable"
# JDK exceptions an API's own exceptions commonly extend that Java does not check (plus every *Error)
_UNCHECKED_JDK = frozenset(
    {
        "java.lang.RuntimeException",
        "java.lang.IllegalArgumentException",
        "java.lang.IllegalStateException",
        "java.lang.NullPointerException",
        "java.lang.UnsupportedOperationException",
        "java.lang.IndexOutOfBoundsException",
        "java.lang.ArithmeticException",
        "java.lang.ClassCastException",
        "java.lang.NumberFormatException",
        "java.lang.SecurityException",
        "java.util.NoSuchElementException",
        "java.util.ConcurrentModificationException",
        "java.io.UncheckedIOException",
        "java.time.DateTimeException",
    }
)
_NOT_EXPORTED = Access.STATIC | Access.SYNTHETIC | Access.BRIDGE | Access.PRIVATE


@dataclass(frozen=True, slots=True)
class ApiField:
    name: str
    type: JavaType


@dataclass(frozen=True, slots=True)
class ApiParameter:
    name: str  # from MethodParameters, else arg0, arg1, ... as javac would name them
    type: JavaType


@dataclass(frozen=True, slots=True)
class ApiMethod:
    name: str
    parameters: tuple[ApiParameter, ...]
    returns: JavaType
    throws: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p.type.name for p in self.parameters)})"


@dataclass(frozen=True, slots=True)
class ApiService:
    name: str
    methods: tuple[ApiMethod, ...]
    version: str = ""
    group: str = ""

    @property
    def simple_name(self) -> str:
        return self.name.rpartition(".")[2].replace("$", "")


@dataclass(frozen=True, slots=True)
class ApiClass:
    """A POJO, enum or exception. ``superclass`` is a class of this API ("" otherwise);
    ``java_superclass`` the one Java names, ``checked`` for an exception Java checks."""

    name: str
    kind: JavaKind
    superclass: str
    java_superclass: str
    fields: tuple[ApiField, ...] = ()
    constants: tuple[str, ...] = ()
    checked: bool = False
    type_parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class JavaApi:
    """Services, the classes they reach (superclasses first) and the non-JDK names not found."""

    services: tuple[ApiService, ...]
    classes: tuple[ApiClass, ...]
    missing: tuple[str, ...] = ()
    interfaces_as_types: tuple[str, ...] = field(default=())  # interfaces used as data types: typed Any

    def find(self, name: str) -> ApiClass | None:
        return next((c for c in self.classes if c.name == name), None)


def read_api(class_files: Iterable[ClassFile], services: Sequence[str] = ()) -> JavaApi:
    """The API of ``class_files``: the interfaces named in ``services`` (default: every
    public interface declaring methods) and the classes they reach."""
    index: dict[str, ClassFile] = {}
    for cls in class_files:
        index.setdefault(cls.name, cls)
    if services:
        unknown = [name for name in services if name not in index or not index[name].is_interface]
        if unknown:
            raise JavaApiError(f"not an interface in the given class files: {', '.join(unknown)}")
        chosen = [index[name] for name in services]
    else:  # every service interface but those another one extends (served as part of it)
        chosen = [c for c in index.values() if is_service(c)]
        extended = {name for c in chosen for name in c.interfaces}
        chosen = [c for c in chosen if c.name not in extended]
    if not chosen:
        raise JavaApiError("no public interface with methods in the given class files: nothing to serve")
    built = tuple(_service(cls, index) for cls in sorted(chosen, key=lambda c: c.name))
    return _Reach(index).api(built)


def is_service(cls: ClassFile) -> bool:
    """A public interface (not an annotation) declaring at least one instance method."""
    return (
        cls.is_interface
        and bool(cls.access & Access.PUBLIC)
        and any(not m.access & _NOT_EXPORTED and not m.name.startswith("<") for m in cls.methods)
    )


def _service(cls: ClassFile, index: dict[str, ClassFile]) -> ApiService:
    methods: dict[tuple[str, str], ApiMethod] = {}
    seen: set[str] = set()
    pending = [cls.name]
    while pending:  # the interface, then the interfaces it extends (breadth first, each once)
        name = pending.pop(0)
        if name in seen or name not in index:
            continue
        seen.add(name)
        current = index[name]
        for member in current.methods:
            if member.access & _NOT_EXPORTED or member.name.startswith("<"):
                continue
            # an override (a covariant return too) hides the inherited method: Java tells them by parameters
            key = (member.name, member.descriptor.partition(")")[0])
            if key not in methods:
                methods[key] = _method(current, member)
        pending.extend(current.interfaces)
    constants = {f.name: f.constant for f in cls.fields if f.access & Access.STATIC and isinstance(f.constant, str)}
    return ApiService(cls.name, tuple(methods.values()), constants.get("VERSION", ""), constants.get("GROUP", ""))


def _method(owner: ClassFile, member: Member) -> ApiMethod:
    where = f"{owner.name}.{member.name}{member.descriptor}"
    try:
        types = method_type(member.descriptor, member.signature, class_type_parameters(owner.signature))
    except JavaApiError as exc:
        raise JavaApiError(f"{where}: {exc}") from None
    names = member.parameter_names if len(member.parameter_names) == len(types.parameters) else ()
    parameters = tuple(
        ApiParameter(names[i] if names and names[i] else f"arg{i}", t) for i, t in enumerate(types.parameters)
    )
    throws = member.exceptions or tuple(t.name for t in types.throws)
    return ApiMethod(member.name, parameters, types.returns, throws)


class _Reach:
    """Walks from the services' types to every class they reach."""

    def __init__(self, index: dict[str, ClassFile]) -> None:
        self.index = index
        self.found: dict[str, ApiClass] = {}
        self.seen: set[str] = set()
        self.pending: deque[str] = deque()  # a worklist, not recursion: a hostile chain is not a stack overflow
        self.missing: dict[str, None] = {}
        self.interfaces: dict[str, None] = {}

    def api(self, services: tuple[ApiService, ...]) -> JavaApi:
        for service in services:
            for method in service.methods:
                for java in (*(p.type for p in method.parameters), method.returns):
                    self.type(java)
                self.pending.extend(method.throws)
        while self.pending:
            self.visit(self.pending.popleft())
        return JavaApi(services, tuple(self.found.values()), tuple(self.missing), tuple(self.interfaces))

    def type(self, java: JavaType) -> None:
        """Queue the classes ``java`` names (its generic arguments are at most MAX_DEPTH deep)."""
        self.pending.append(java.name.partition("[")[0])
        for arg in java.args:
            self.type(arg)

    def visit(self, name: str) -> None:
        if name in self.seen or "." not in name or name.startswith(_JDK_PREFIXES):
            return
        self.seen.add(name)
        cls = self.index.get(name)
        if cls is None:
            self.missing[name] = None
            return
        if cls.is_interface or cls.access & Access.ANNOTATION:
            self.interfaces[name] = None  # an interface as a data type: no fields to bind
            return
        model = self.model(cls)
        if model.superclass:
            self.pending.append(model.superclass)
        for item in model.fields:
            self.type(item.type)
        self.found[name] = model

    def model(self, cls: ClassFile) -> ApiClass:
        bound_super = cls.superclass if cls.superclass in self.index else ""
        if cls.is_enum:
            constants = tuple(f.name for f in cls.fields if f.access & Access.ENUM)
            return ApiClass(cls.name, JavaKind.ENUM, "", cls.superclass, constants=constants)
        root = self.throwable_root(cls)
        type_vars = class_type_parameters(cls.signature)
        fields = tuple(
            ApiField(f.name, self.field_type(cls, f, type_vars))
            for f in cls.fields
            if not f.access & (Access.STATIC | Access.TRANSIENT | Access.SYNTHETIC)
        )
        if root:
            checked = root not in _UNCHECKED_JDK and not root.endswith("Error")
            return ApiClass(cls.name, JavaKind.EXCEPTION, bound_super, cls.superclass, fields, checked=checked)
        if bound_super and self.throwable_root(self.index[bound_super]):
            bound_super = ""
        return ApiClass(cls.name, JavaKind.CLASS, bound_super, cls.superclass, fields, (), False, tuple(type_vars))

    def field_type(self, cls: ClassFile, member: Member, type_vars: dict[str, JavaType]) -> JavaType:
        try:
            return field_type(member.descriptor, member.signature, type_vars)
        except JavaApiError as exc:
            raise JavaApiError(f"{cls.name}.{member.name}: {exc}") from None

    def chain(self, cls: ClassFile) -> list[str]:
        """Superclass names from ``cls`` up to the first one outside the class files (bounded)."""
        names: list[str] = []
        current: ClassFile | None = cls
        while current is not None and current.superclass and current.superclass not in names:
            names.append(current.superclass)
            if len(names) > MAX_SUPERCLASSES:
                raise JavaApiError(f"{cls.name}: more than {MAX_SUPERCLASSES} superclasses")
            current = self.index.get(current.superclass)
        return names

    def throwable_root(self, cls: ClassFile) -> str:
        """The JDK class an exception's chain ends in ("" when ``cls`` is no Throwable)."""
        chain = self.chain(cls)
        last = chain[-1] if chain else ""
        outside = last not in self.index
        if outside and (last == _THROWABLE or (last.startswith("java.") and last.endswith(("Exception", "Error")))):
            return last
        return ""
