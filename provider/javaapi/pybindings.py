"""Python source for a Java API: the bound classes (``contract.py``) and a service skeleton (``service.py``).

``python_sources(api, package=..., origin=...)`` returns the files of a Python package
``import-java`` writes: one binding per POJO (a ``JavaObject`` dataclass, field for
field), enum (``JavaEnum``, constants in order) and exception (``JavaException``
subclass, its own fields as annotated attributes), and one ``Service`` class per Java
interface whose methods raise a ``RuntimeException`` (``JavaException``) until filled in. The
hints come from ``provider.javatype.python_hint``, the one mapping of Java types to
hints, so ``contract_of`` of the skeleton names the same Java types the jar does.

Field defaults follow Java's (``0``, ``False``, null as ``None``) except that a POJO's
``String`` is ``""`` and its collections empty, as the project's own bindings have them
(a null from Java still decodes to that default). What Python cannot spell is left out
and said in ``JavaApi``-level warnings and the class's docstring: a field named by a
Python keyword or with a leading underscore, a method whose name is no Python identifier.
Overloads after the first get ``<name>_by_<parameter types>`` and ``@java_method("<name>")``.
No I/O: the caller writes the files.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

import hessian2
from dubbo_recsys.provider.contract import JavaKind
from dubbo_recsys.provider.javaapi.imported import ApiClass, ApiField, ApiMethod, ApiService, JavaApi
from dubbo_recsys.provider.javatype import HINT_IMPORTS, JavaType, PythonHint, python_hint

__all__ = ["PythonSources", "python_sources"]

_ZERO = {"boolean": "False", "char": '"\\x00"', "double": "0.0", "float": "0.0"}
_WRAPPERS = frozenset({"Long", "Short", "Byte", "Float", "Char"})  # hessian2's int/float/str subclasses
_SHAPES = (("list[", "list"), ("set[", "set"), ("dict[", "dict"))
_TAKEN_BY_THROWABLE = frozenset(
    {"java_class", "message", "cause", "stack_trace", "suppressed", "extra", "args"}
    | {"suppressedExceptions", "stackTrace", "detailMessage"}
)
_RESERVED = (
    frozenset(dir(builtins))
    | frozenset(keyword.kwlist)
    | frozenset(HINT_IMPORTS)
    | {"annotations", "dataclass", "field", "JavaObject", "JavaEnum", "JavaException", "Service", "java_method"}
)


@dataclass
class PythonSources:
    """The files (name -> source) and what could not be carried over (one line each)."""

    files: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def python_sources(api: JavaApi, *, package: str, origin: str) -> PythonSources:
    """``__init__.py``, ``contract.py`` and ``service.py`` of the package ``package`` for ``api``
    (read from ``origin``, named in the docstrings)."""
    writer = _Writer(api)
    contract = writer.bindings(origin)
    service = writer.skeleton(package, origin)
    init = f'"""Python bindings and services for the Java API in {origin} (``dubbo-recsys import-java``)."""\n'
    return PythonSources({"__init__.py": init, "contract.py": contract, "service.py": service}, writer.warnings)


def _python_names(java_names: Iterable[str], taken: Iterable[str]) -> dict[str, str]:
    """Java name -> a distinct Python class name, none of ``taken``: the simple name
    (``Outer$Inner`` -> ``OuterInner``), else prefixed with its package's last part, else numbered."""
    names: dict[str, str] = {}
    used: set[str] = set(taken)
    for java_name in sorted(java_names, key=lambda name: (name.count("$"), name)):
        package, _, simple = java_name.rpartition(".")
        base = _identifier("".join(part[:1].upper() + part[1:] for part in simple.split("$")))
        candidates = [base, _identifier(package.rpartition(".")[2].capitalize() + base)]
        chosen = next((c for c in candidates if c not in used), "")
        number = 2
        while not chosen:
            chosen = f"{base}{number}" if f"{base}{number}" not in used else ""
            number += 1
        names[java_name] = chosen
        used.add(chosen)
    return names


def _identifier(text: str) -> str:
    cleaned = re.sub(r"\W", "_", text)
    return cleaned if cleaned.isidentifier() else f"_{cleaned}"


class _Imports:
    """``from module import a, b`` lines, collected as the source is written."""

    def __init__(self) -> None:
        self.modules: dict[str, set[str]] = {}
        self.local: set[str] = set()  # bindings the source uses (service.py imports them from .contract)

    def add(self, module: str, *names: str) -> None:
        self.modules.setdefault(module, set()).update(names)

    def hint(self, hint: PythonHint) -> str:
        for name in hint.names:
            module, _, imported = HINT_IMPORTS[name].removeprefix("from ").partition(" import ")
            self.add(module, imported)
        return hint.text

    def lines(self) -> list[str]:
        """The import block as ruff's isort writes it: standard library, ours, then the bindings."""
        standard = sorted(
            m for m in self.modules if m.split(".")[0] in ("typing", "dataclasses", "datetime", "decimal", "uuid")
        )
        first_party = sorted(m for m in self.modules if m not in standard)
        out = ["from __future__ import annotations", ""]
        for group in (standard, first_party):
            for module in group:
                out.extend(_import(module, self.modules[module]))
            if group:
                out.append("")
        if self.local:
            out.extend([*_import(".contract", self.local), ""])
        return out


def _import(module: str, names: Iterable[str]) -> list[str]:
    """``from module import a, b``; one name a line, in parentheses, when that is over 120 characters."""
    ordered = sorted(names, key=_isort_key)
    line = f"from {module} import {', '.join(ordered)}"
    return [line] if len(line) <= 120 else [f"from {module} import (", *(f"    {n}," for n in ordered), ")"]


def _isort_key(name: str) -> tuple[int, str, str]:
    """isort's order inside one import: CONSTANTS, Classes, functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name.lower(), name)


class _Writer:
    def __init__(self, api: JavaApi) -> None:
        self.api = api
        self.names = _python_names((c.name for c in api.classes), _RESERVED)
        self.service_names = _python_names((s.name for s in api.services), _RESERVED | set(self.names.values()))
        self.warnings: list[str] = [
            f"{name}: not in the given class files; typed Any (import its jar too to bind it)" for name in api.missing
        ] + [f"{name}: an interface used as a data type; typed Any" for name in api.interfaces_as_types]

    def hint(self, java: JavaType, imports: _Imports) -> str:
        def name(java_name: str) -> str | None:
            found = self.names.get(java_name)
            if found:
                imports.local.add(found)
            return found

        return imports.hint(python_hint(java, name))

    # ------------------------------------------------------------ contract.py

    def bindings(self, origin: str) -> str:
        imports = _Imports()
        blocks = [self.binding(cls, imports) for cls in _superclasses_first(self.api.classes)]
        imports.local.clear()  # the bindings are this module's own
        doc = [
            f'"""The Python bindings of the classes in {origin}: one per Java class, field for field.',
            "",
            "Written by ``dubbo-recsys import-java``; the class keyword is the Java class, the annotations",
            "are the Java field types (``Long`` is ``long``, ``float`` is ``double``, ``X | None`` may be null).",
            '"""',
            "",
        ]
        if not blocks:
            return "\n".join([*doc[:-2], "(This API has no classes of its own.)", '"""']) + "\n"
        return "\n".join([*doc, *imports.lines(), "", *"\n\n\n".join(blocks).splitlines()]) + "\n"

    def binding(self, cls: ApiClass, imports: _Imports) -> str:
        name = self.names[cls.name]
        notes: list[str] = []
        if cls.kind is JavaKind.ENUM:
            imports.add("hessian2", "JavaEnum")
            body = [f"{constant} = {number}" for number, constant in enumerate(self.constants(cls, notes), 1)]
            head = f'class {name}(JavaEnum, java_class="{cls.name}"):'
        elif cls.kind is JavaKind.EXCEPTION:
            base = self.exception_base(cls, imports, notes)
            body = [self.field_line(cls, f, imports) for f in self.fields(cls, notes)]
            head = f'class {name}({base}, java_class="{cls.name}"):'
        else:
            imports.add("dataclasses", "dataclass")
            imports.add("hessian2", "JavaObject")
            base = self.names[cls.superclass] if cls.superclass else "JavaObject"
            if not cls.superclass and cls.java_superclass not in ("java.lang.Object", ""):
                notes.append(f"In Java it extends {cls.java_superclass}, which is not bound: its fields are not sent.")
            body = [self.field_line(cls, f, imports) for f in self.fields(cls, notes)]
            head = f'@dataclass\nclass {name}({base}, java_class="{cls.name}"):'
        doc = _docstring(notes)
        lines = [*doc, *([""] if doc and body else []), *body] or ["pass"]
        return "\n".join([head, *("    " + line if line else "" for line in lines)])

    def constants(self, cls: ApiClass, notes: list[str]) -> Iterable[str]:
        for constant in cls.constants:
            if constant.isidentifier() and not keyword.iskeyword(constant) and not constant.startswith("_"):
                yield constant
            else:
                self.skipped(cls, f"constant {constant}", "it is no Python enum member name", notes)

    def fields(self, cls: ApiClass, notes: list[str]) -> Iterable[ApiField]:
        for item in cls.fields:
            if not item.name.isidentifier() or keyword.iskeyword(item.name) or item.name.startswith("_"):
                self.skipped(cls, f"field {item.name}", "Python cannot name it (Hessian matches fields by name)", notes)
            elif cls.kind is JavaKind.EXCEPTION and item.name in _TAKEN_BY_THROWABLE:
                self.skipped(cls, f"field {item.name}", "the name is taken by java.lang.Throwable", notes)
            else:
                yield item

    def skipped(self, cls: ApiClass, what: str, why: str, notes: list[str]) -> None:
        notes.append(f"Java's {what} is left out: {why}.")
        self.warnings.append(f"{cls.name}: {what} left out: {why}")

    def field_line(self, cls: ApiClass, item: ApiField, imports: _Imports) -> str:
        java = item.type
        hint = self.hint(java, imports)
        if java.is_primitive:
            zero = _ZERO.get(java.name, "0")
            if hint in _WRAPPERS:  # Long(0), not 0: the default has the annotated type (mypy agrees)
                zero = f"{hint}({zero})"
            return f"{item.name}: {hint} = {zero}"
        if hint.endswith("| None") or java.name == "java.lang.Object":
            return f"{item.name}: {hint} = None"
        if cls.kind is JavaKind.CLASS:
            if java.name == "java.lang.String":
                return f'{item.name}: {hint} = ""'
            for prefix, shape in _SHAPES:
                if hint.startswith((prefix, f"Annotated[{prefix}")):
                    imports.add("dataclasses", "field")
                    return f"{item.name}: {hint} = field(default_factory={shape})"
        return f"{item.name}: {hint} | None = None"

    def exception_base(self, cls: ApiClass, imports: _Imports, notes: list[str]) -> str:
        if cls.superclass:
            return self.names[cls.superclass]
        standard = hessian2.bound_classes().get(cls.java_superclass)
        if (
            isinstance(standard, type)
            and issubclass(standard, hessian2.JavaException)
            and standard.__name__ in hessian2.__all__
        ):
            imports.add("hessian2", standard.__name__)
            return standard.__name__
        imports.add("hessian2", "JavaException")
        if cls.java_superclass != "java.lang.RuntimeException":
            checked = " (checked: Java callers must catch it)" if cls.checked else ""
            notes.append(
                f"In Java it extends {cls.java_superclass}{checked}; it travels the same as a RuntimeException."
            )
        return "JavaException"

    # ------------------------------------------------------------ service.py

    def skeleton(self, package: str, origin: str) -> str:
        imports = _Imports()
        imports.add("dubbo_recsys.provider", "Service")
        imports.add("hessian2", "JavaException")
        written = [(service, self.service(service, imports)) for service in self.api.services]
        classes = [text for _, text in written if text]
        made = ", ".join(f"{self.service_names[s.name]}()" for s, text in written if text)
        factory = [
            "def services() -> list[Service]:",
            f'    """What ``dubbo-recsys serve --app {package}.service:services`` serves."""',
            f"    return [{made}]",
        ]
        classes.append("\n".join(factory))
        doc = [
            f'"""The Java services of {origin} in Python: fill in the methods, then serve them::',
            "",
            f"    dubbo-recsys serve --app {package}.service:services",
            "",
            "Written by ``dubbo-recsys import-java``. The type hints are the Java signatures (keep them).",
            "A method not filled in answers Java with a RuntimeException saying so (``JavaException``; a",
            "Dubbo 3.2+ consumer would refuse an UnsupportedOperationException its method does not declare).",
            "Methods may be ``async def``; ``provider.service`` says the rest.",
            '"""',
            "",
        ]
        return "\n".join([*doc, *imports.lines(), "", *"\n\n\n".join(classes).splitlines()]) + "\n"

    def service(self, service: ApiService, imports: _Imports) -> str:
        keywords = f'interface="{service.name}"'
        if service.version:
            keywords += f", version={_str(service.version)}"
        if service.group:
            keywords += f", group={_str(service.group)}"
        lines = [f"class {self.service_names[service.name]}(Service, {keywords}):"]
        used: set[str] = set()
        for method in service.methods:
            if not method.name.isidentifier():
                self.warnings.append(f"{service.name}.{method.name}: left out: no Python identifier can name it")
                continue
            lines.extend(
                [*([""] if used else []), *("    " + line for line in self.method(service, method, used, imports))]
            )
        if not used:
            self.warnings.append(f"{service.name}: left out: none of its methods can be served from Python")
            return ""
        return "\n".join(lines)

    def method(self, service: ApiService, method: ApiMethod, used: set[str], imports: _Imports) -> list[str]:
        name = _method_name(method, used)
        used.add(name)
        options = [f'"{method.name}"'] if name != method.name else []
        thrown = [t for t in (self.thrown(n, imports) for n in method.throws) if t]
        if thrown:
            options.append(f"throws=({', '.join(thrown)},)")
        params = ["self"]
        taken = {"self"}
        for index, param in enumerate(method.parameters):
            pname = _parameter_name(param.name, index, taken)
            taken.add(pname)
            params.append(f"{pname}: {self.hint(param.type, imports)}")
        returns = self.hint(method.returns, imports)
        lines = []
        if options:
            imports.add("dubbo_recsys.provider", "java_method")
            lines.append(f"@java_method({', '.join(options)})")
        head = f"def {name}({', '.join(params)}) -> {returns}:"
        if len(head) > 112:
            head = "\n".join([f"def {name}(", *(f"    {p}," for p in params), f") -> {returns}:"])
        lines.extend(head.splitlines())
        simple = service.name.rpartition(".")[2]
        types = ", ".join(p.type.name.rpartition(".")[2] for p in method.parameters)
        message = f"{simple}.{method.name}({types}) is not implemented"
        if len(message) > 80:  # the line stays under 120 characters
            message = f"{simple}.{method.name} is not implemented"
        lines.append(f"    raise JavaException({_str(message)})")
        return lines

    def thrown(self, java_name: str, imports: _Imports) -> str:
        if java_name in self.names and (found := self.api.find(java_name)) and found.kind is JavaKind.EXCEPTION:
            imports.local.add(self.names[java_name])
            return self.names[java_name]
        standard = hessian2.bound_classes().get(java_name)
        if isinstance(standard, type) and standard.__name__ in hessian2.__all__:
            imports.add("hessian2", standard.__name__)
            return standard.__name__
        return ""  # a JDK exception with no binding (java.io.IOException): Java declares it, Python need not


def _str(text: str) -> str:
    """A double-quoted Python string literal of ``text`` (JSON's escapes are Python's)."""
    return json.dumps(text)


def _docstring(notes: list[str]) -> list[str]:
    """The lines of a docstring saying ``notes`` (none for no notes), wrapped for a class body."""
    if not notes:
        return []
    lines = textwrap.wrap(" ".join(notes), 108)
    if len(lines) == 1:
        return [f'"""{lines[0]}"""']
    return [f'"""{lines[0]}', *lines[1:], '"""']


def _method_name(method: ApiMethod, used: set[str]) -> str:
    base = method.name
    if keyword.iskeyword(base) or base.startswith("_"):
        base = f"{base.strip('_')}_" if base.strip("_") else "method_"
    if base not in used:
        return base
    words = "_".join(_type_word(p.type) for p in method.parameters) or "nothing"
    candidate = f"{base}_by_{words}"
    number = 2
    while candidate in used:
        candidate = f"{base}_by_{words}_{number}"
        number += 1
    return candidate


def _type_word(java: JavaType) -> str:
    simple = java.name.rpartition(".")[2].replace("$", "_").replace("[]", "_array")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", simple).lower()


def _parameter_name(name: str, index: int, taken: set[str]) -> str:
    if not name.isidentifier():
        name = f"arg{index}"
    if keyword.iskeyword(name) or name in taken:
        name = f"{name}_"
    while name in taken:
        name = f"{name}{index}"
    return name


def _superclasses_first(classes: Iterable[ApiClass]) -> list[ApiClass]:
    """Enums first, then each class after its bound superclass (a Python base must exist first):
    by the length of the chain of bound superclasses above it, then by name."""
    by_name = {c.name: c for c in classes}
    depth: dict[str, int] = {}
    for cls in by_name.values():
        chain = []
        current: ApiClass | None = cls
        while current is not None and current.name not in depth and current.name not in chain:
            chain.append(current.name)
            current = by_name.get(current.superclass) if current.superclass else None
        above = depth.get(current.name, 0) + 1 if current is not None and current.name in depth else 0
        for offset, name in enumerate(reversed(chain)):
            depth[name] = above + offset
    return sorted(by_name.values(), key=lambda c: (c.kind is not JavaKind.ENUM, depth[c.name], c.name))
