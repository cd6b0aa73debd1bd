"""``import-java``'s Python: names Python cannot spell, collisions, overloads, missing classes.

The class files are assembled by ``classbytes`` (no JVM needed); the written package is
imported (its Java names are this test's own, so binding them process-wide harms nothing)
and its skeleton's contract compared with what the class files declare.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.provider import contract_of
from dubbo_recsys.provider.contract import JavaKind
from dubbo_recsys.provider.javaapi.classfile import ClassFile, parse_class
from dubbo_recsys.provider.javaapi.errors import JavaApiError
from dubbo_recsys.provider.javaapi.imported import read_api
from dubbo_recsys.provider.javaapi.pybindings import python_sources
from tests.provider.javaapi.classbytes import ClassBytes

P = "org/dubborecsys/test/pyb"
PUBLIC_ENUM, PUBLIC_FINAL_STATIC, PRIVATE = 0x4031, 0x4019, 0x0002


def classes() -> list[ClassFile]:
    service = ClassBytes(f"{P}/Api", access=0x0601)
    service.method("get", f"(J)L{P}/Item;", exceptions=(f"{P}/Missing",), parameters=("from",))
    service.method("get", f"(Ljava/lang/String;)L{P}/Item;")  # no parameter names: arg0
    service.method("get", f"(L{P}/Kind;I)Ljava/util/List;", signature=f"(L{P}/Kind;I)Ljava/util/List<L{P}/Item;>;")
    service.method("in", f"(L{P}/other/Item;)V", exceptions=("java/lang/IllegalStateException", "java/io/IOException"))
    service.method("shape", "()Lorg/elsewhere/Shape;")  # a class the files do not hold
    service.method("any", f"()L{P}/Any;")
    service.method("helper", "()V", access=0x0009)  # static: not exported
    item = ClassBytes(f"{P}/Item")
    item.field("id", "J")
    item.field("from", "Ljava/lang/String;")  # a Python keyword: left out
    item.field("_hidden", "I")  # a leading underscore: the codec would skip it
    item.field("kind", f"L{P}/Kind;")
    item.field("tags", "Ljava/util/List;", signature="Ljava/util/List<Ljava/lang/String;>;")
    item.field("cache", "Ljava/lang/String;", access=0x0082)  # transient: not sent
    item.field("shape", f"L{P}/Drawable;")  # an interface as a data type
    kind = ClassBytes(f"{P}/Kind", superclass="java/lang/Enum", access=PUBLIC_ENUM)
    for constant in ("BOOK", "None", "GAME"):
        kind.field(constant, f"L{P}/Kind;", access=PUBLIC_FINAL_STATIC)
    kind.field("label", "Ljava/lang/String;", access=PRIVATE)
    missing = ClassBytes(f"{P}/Missing", superclass="java/lang/Exception")
    missing.field("itemId", "J")
    missing.field("message", "Ljava/lang/String;")  # taken by java.lang.Throwable in Python
    other = ClassBytes(f"{P}/other/Item")  # the same simple name in another package
    other.field("note", "Ljava/lang/String;")
    any_class = ClassBytes(f"{P}/Any")  # named like a name the module imports
    drawable = ClassBytes(f"{P}/Drawable", access=0x0601)
    parts = [service, item, kind, missing, other, any_class, drawable]
    return [parse_class(part.build()) for part in parts]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    api = read_api(classes(), [f"{P.replace('/', '.')}.Api"])
    sources = python_sources(api, package="pyb_sample", origin="pyb.jar")
    root = tmp_path_factory.mktemp("pyb")
    (root / "pyb_sample").mkdir()
    for name, text in sources.files.items():
        (root / "pyb_sample" / name).write_text(text)
    sys.path.insert(0, str(root))
    try:
        yield root / "pyb_sample", sources.warnings
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("pyb_sample")]:
            del sys.modules[name]


def test_the_model_of_the_class_files() -> None:
    api = read_api(classes())
    (service,) = api.services
    assert [m.signature for m in service.methods] == [
        "get(long)",
        "get(java.lang.String)",
        f"get({P.replace('/', '.')}.Kind, int)",
        f"in({P.replace('/', '.')}.other.Item)",
        "shape()",
        "any()",
    ]
    kinds = {c.name.rpartition(".")[2]: c.kind for c in api.classes}
    assert kinds == {
        "Item": JavaKind.CLASS,
        "Kind": JavaKind.ENUM,
        "Missing": JavaKind.EXCEPTION,
        "Any": JavaKind.CLASS,
    }
    missing = api.find(f"{P.replace('/', '.')}.Missing")
    assert missing is not None and missing.checked and missing.java_superclass == "java.lang.Exception"
    assert api.missing == ("org.elsewhere.Shape",)
    assert api.interfaces_as_types == (f"{P.replace('/', '.')}.Drawable",)


def test_what_python_cannot_name_is_left_out_and_said(written: tuple[Path, list[str]]) -> None:
    package, warnings = written
    joined = "\n".join(warnings)
    for expected in (
        "field from left out",
        "field _hidden left out",
        "constant None left out",
        "field message left out",
    ):
        assert expected in joined, joined
    assert "org.elsewhere.Shape: not in the given class files; typed Any" in joined
    contract = (package / "contract.py").read_text()
    assert "Java's field from is left out: Python cannot name it" in contract


def test_the_skeleton_declares_the_contract_of_the_class_files(written: tuple[Path, list[str]]) -> None:
    service = importlib.import_module("pyb_sample.service")
    contract = contract_of(service.Api)
    pkg = P.replace("/", ".")
    assert [(m.python_name, m.signature) for m in contract.methods] == [
        ("get", "get(long)"),
        ("get_by_string", "get(java.lang.String)"),
        ("get_by_kind_int", f"get({pkg}.Kind, int)"),
        ("in_", f"in({pkg}.other.Item)"),
        ("shape", "shape()"),
        ("any", "any()"),
    ]
    returns = {m.python_name: str(m.returns) for m in contract.methods}
    assert returns["get_by_kind_int"] == f"java.util.List<{pkg}.Item>"
    assert returns["shape"] == "org.elsewhere.Shape"  # typed Any, still that Java class on the wire
    assert [p.name for p in contract.methods[0].parameters] == ["from_"]
    assert [p.name for p in contract.methods[1].parameters] == ["arg0"]
    thrown = {m.python_name: [t.name for t in m.throws] for m in contract.methods}
    assert thrown["get"] == [f"{pkg}.Missing"] and thrown["in_"] == ["java.lang.IllegalStateException"]
    classes = {c.name: c for c in contract.classes()}
    assert [f.name for f in classes[f"{pkg}.Item"].fields] == ["id", "kind", "tags", "shape"]
    assert classes[f"{pkg}.Kind"].constants == ("BOOK", "GAME")
    assert [f.name for f in classes[f"{pkg}.Missing"].fields] == ["itemId"]
    names = {c.python.__name__ for c in classes.values()}
    assert {"Item", "OtherItem", "PybAny"} <= names  # collisions renamed, never shadowed


def test_an_unknown_interface_is_an_error() -> None:
    with pytest.raises(JavaApiError, match=r"not an interface in the given class files: org\.x\.Nope"):
        read_api(classes(), ["org.x.Nope"])
