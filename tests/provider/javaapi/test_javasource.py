"""``java-api``'s Java: what the sources say, and that javac compiles them into the contract's methods."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dubbo_recsys.provider import contract_of
from dubbo_recsys.provider.javaapi.archive import read_class_files
from dubbo_recsys.provider.javaapi.classfile import Access, parse_class
from dubbo_recsys.provider.javaapi.errors import JavaApiError
from dubbo_recsys.provider.javaapi.mavenmodule import Coordinates, maven_module
from tests.provider.javaapi.api_sample import PACKAGE, KeywordService, SampleService
from tests.support import require_env

COORDINATES = Coordinates("org.dubborecsys.test", "sample-api", "1.0.0")
SOURCES = f"src/main/java/{PACKAGE.replace('.', '/')}"


@pytest.fixture(scope="module")
def module() -> dict[str, str]:
    return maven_module([contract_of(SampleService)], COORDINATES, "tests.provider.javaapi.api_sample")


def test_one_file_per_top_level_type_and_a_holder_for_an_unbound_outer_class(module: dict[str, str]) -> None:
    names = {"SampleService", "Mood", "Shape", "Date", "Base", "Defaults", "Oops", "BigOops"}
    assert set(module) == {"pom.xml", *(f"{SOURCES}/{n}.java" for n in names)}
    shape = module[f"{SOURCES}/Shape.java"]
    assert "public final class Shape {" in shape and "public static class Point implements Serializable {" in shape


def test_python_defaults_become_java_initializers(module: dict[str, str]) -> None:
    source = module[f"{SOURCES}/Defaults.java"]
    for line in [
        "private int count = 10;",
        "private long big = 1099511627776L;",
        "private short small = (short) -3;",
        "private byte tiny = (byte) 7;",
        "private float ratio = 1.5f;",
        "private double precise = 2.25;",
        "private boolean flag = true;",
        "private char letter = '\\u00e9';",
        'private String name = "say \\"hi\\"\\n";',
        "private Mood mood = Mood.SAD;",
        "private List<String> tags = new ArrayList<>();",
        "private Map<String, Double> scores = new HashMap<>();",
        "private Set<Long> ids = new HashSet<>();",
        "private Shape.Point point = new Shape.Point();",
        "private int[] raw = new int[0];",
        "private Date today;",
    ]:
        assert line in source, line
    assert "public class Defaults extends Base {" in source


def test_a_jdk_class_named_like_a_contract_class_is_written_in_full(module: dict[str, str]) -> None:
    source = module[f"{SOURCES}/Date.java"]
    assert "private java.util.Date when;" in source and "import java.util.Date;" not in source


def test_javadoc_is_escaped_and_code_spans_are_code(module: dict[str, str]) -> None:
    defaults = module[f"{SOURCES}/Defaults.java"]
    assert "{@code *&#47;}" not in defaults and "<code>*&#47;</code>" in defaults
    assert "&#92;u0041" in defaults and "&#64;param" in defaults
    assert "/** A field's docstring: {&#64;code braces} &amp; &lt;tags&gt;. */" in defaults
    service = module[f"{SOURCES}/SampleService.java"]
    assert "/** The sample service: &lt;all&gt; the &amp; tricky {@code {braces}} bits. */" in service
    assert 'String VERSION = "3.0";' in service and 'String GROUP = "g1";' in service
    assert "void fail(String default_) throws BigOops;" in service  # a Java keyword as a parameter name


def test_the_pom_pins_its_plugins_and_has_no_dependencies(module: dict[str, str]) -> None:
    pom = module["pom.xml"]
    assert "<artifactId>sample-api</artifactId>" in pom and "<version>1.0.0</version>" in pom
    assert "<dependencies>" not in pom and "<maven.compiler.release>8</maven.compiler.release>" in pom
    assert "<version>3.13.0</version>" in pom


def test_what_java_cannot_declare_is_an_error_naming_it() -> None:
    with pytest.raises(JavaApiError, match="field 'default' cannot be declared in Java"):
        maven_module([contract_of(KeywordService)], COORDINATES, "test")
    with pytest.raises(JavaApiError, match="groupId"):
        Coordinates("a b", "x", "1")


@pytest.mark.java
def test_javac_compiles_the_module_into_the_contracts_methods(module: dict[str, str], tmp_path: Path) -> None:
    require_env("JAVA_SAMPLE_DIR")  # the Java toolchain is installed by tests/ci/20-java-sample.sh
    javac = shutil.which("javac")
    assert javac, "javac is not installed"
    for relative, text in module.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    sources = [str(p) for p in tmp_path.rglob("*.java")]
    done = subprocess.run(
        [javac, "--release", "8", "-Xdoclint:all,-missing", "-Werror", "-d", str(tmp_path / "classes"), *sources],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    classes = {c.name: c for c in (parse_class(d, n) for n, d in read_class_files(tmp_path / "classes"))}
    service = classes[f"{PACKAGE}.SampleService"]
    contract = contract_of(SampleService)
    declared = [(m.name, m.descriptor) for m in service.methods if not m.access & Access.STATIC]
    expected = [
        (m.name, f"({m.descriptor}){m.returns.descriptor if not m.returns.is_void else 'V'}") for m in contract.methods
    ]
    assert declared == expected
    assert next(m for m in service.methods if m.name == "fail").exceptions == (f"{PACKAGE}.BigOops",)
    assert classes[f"{PACKAGE}.Shape$Point"].superclass == "java.lang.Object"
    assert classes[f"{PACKAGE}.BigOops"].superclass == f"{PACKAGE}.Oops"
    assert classes[f"{PACKAGE}.Oops"].superclass == "java.lang.RuntimeException"
