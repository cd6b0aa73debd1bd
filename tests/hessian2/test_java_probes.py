"""The codec accepts and converts what hessian-lite accepts and converts, and refuses what it refuses.

``tests/hessian2/vectors/probes.tsv`` holds what hessian-lite 4.0.3 (JDK 17) made
of each case of probe_cases.py (a field of each Java type given a value of each
Hessian type; BigDecimal and UUID strings; java.time handles). The fast test
checks the Python codec against those answers; the java-marked test has Java
answer again (``HESSIAN_VECTORS_CP``) and the answers must not have moved.

Where we differ on purpose, ``deviation`` says why, and the test pins our answer.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.hessian2.probe_cases import CASES, python_answer
from tests.support import require_env

ANSWERS = Path(__file__).parent / "vectors" / "probes.tsv"

OUT_OF_PYTHON_RANGE = {"date-year0", "date-year10000", "instant-max", "duration-max", "duration-beyond"}
STRICTER_ELEMENTS = {"field-counts-intkey", "field-tags-fixedints"}
OBJECT_AS_MAP = {"field-counts-color", "field-counts-decimal", "field-counts-point"}


def deviation(name: str) -> tuple[str, str] | None:
    """(why, our answer) where we answer differently from hessian-lite on purpose."""
    if name in OUT_OF_PYTHON_RANGE:
        return "a valid Java value outside Python's datetime range is a DecodeError", "ERROR"
    if name in STRICTER_ELEMENTS:
        return "hessian-lite lets any element into a List<String>/Map<String,_> key; we refuse it", "ERROR"
    if name in OBJECT_AS_MAP:
        return "hessian-lite turns an object into a Map of its fields, unchecked; we refuse it", "ERROR"
    if name == "field-longs-list":
        return "hessian-lite 4.0.3 fails on a variable-length list ('W') for a List<Long> field", "[L1, L2]"
    if name == "field-s-dblfull5":
        return 'a full-form double 5.0 reads as "5.0" in Java; untyped we keep the value, the compact form\'s "5"', (
            "T0035"
        )
    if name.startswith("field-f-"):
        return "hessian-lite 4.0.3's unsafe FloatFieldDeserializer stores a double into a float field", ""
    return None


def _java_answers() -> dict[str, str]:
    return dict(line.split("\t", 1) for line in ANSWERS.read_text().splitlines())


def test_every_case_has_a_java_answer():
    assert set(_java_answers()) == set(CASES)


def test_python_answers_like_hessian_lite():
    java = _java_answers()
    wrong = []
    for name in sorted(CASES):
        ours = python_answer(name)
        found = deviation(name)
        if found is None and ours != java[name]:
            wrong.append(f"{name}: Java {java[name]}, Python {ours}")
        elif found is not None and found[1] and not ours == found[1] != java[name]:
            wrong.append(f"{name}: expected our {found[1]} (Java {java[name]}: {found[0]}), got {ours}")
    assert not wrong, "\n".join(wrong[:20])


def test_float_fields_round_to_float_precision():
    # Java's (float) of the double, which hessian-lite meant to store (see deviation)
    assert python_answer("field-f-dbl27") == "D" + format(0x40059999A0000000, "x")
    assert python_answer("field-f-int5") == "D" + format(0x4014000000000000, "x")
    assert python_answer("field-f-str12") == python_answer("field-f-list") == "ERROR"


def test_the_deviations_are_few():
    named = [name for name in CASES if deviation(name) is not None and not name.startswith("field-f-")]
    assert len(named) <= 12, named


@pytest.mark.java
def test_java_answers_have_not_moved(tmp_path):
    classpath = require_env("HESSIAN_VECTORS_CP")
    for name, data in CASES.items():
        (tmp_path / f"{name}.bin").write_bytes(data)
    result = subprocess.run(
        ["java", "-cp", classpath, "vectors.Probe", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    moved = sorted(name for name in CASES if fresh.get(name) != _java_answers().get(name))
    assert not moved, f"regenerate tests/hessian2/vectors/probes.tsv: {moved[:10]}"
