"""The compiled encoder (hessian2/_encspeedups.c) against the pure-Python reference.

Every value is encoded twice in one process, with the compiled writers
switched on and off (``_encoder.set_compiled``), and the bytes must be equal;
values that cannot be encoded must fail with the same exception type and
message. Values: the Java vector cases (and what the committed Java bytes
decode to), hypothesis-generated nested values and bound dataclasses, every
int/long/double boundary and strings around the 0x8000-unit chunk size. The
whole hessian2 suite also runs on the pure path in a subprocess
(tests/hessian2/test_speedups.py), and a subprocess checks that
HESSIAN2_PURE_PYTHON=1 really installs nothing compiled.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hessian2
from hessian2 import JavaGenericObject, JavaObject, Long, Short, TypedList, TypedMap, _encoder
from tests.hessian2.test_properties import trees, values
from tests.hessian2.vector_cases import CASES, NOT_BYTE_EXACT, decode

VECTORS = Path(__file__).parent / "vectors"
ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(
    max_examples=int(os.environ.get("HESSIAN2_ENCODER_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

needs_compiled = pytest.mark.skipif(
    not _encoder.SPEEDUPS,
    reason="hessian2._encspeedups is not built "
    "(no C compiler) or HESSIAN2_PURE_PYTHON is set: the pure path is the only one",
)


def _encode(values_: list, compiled: bool):
    """('ok', bytes) or ('error', type, message) of one stream holding ``values_``."""
    previous = _encoder.set_compiled(compiled)
    try:
        encoder = hessian2.Encoder()
        for value in values_:
            encoder.write(value)
        return ("ok", encoder.getvalue())
    except Exception as exc:
        return ("error", type(exc), str(exc))
    finally:
        _encoder.set_compiled(previous)


def same_both_ways(*values_) -> tuple:
    compiled = _encode(list(values_), True)
    pure = _encode(list(values_), False)
    assert compiled == pure
    return compiled


# ---------------------------------------------------------------- bound classes used below


@dataclass
class EsItem(JavaObject, java_class="test.es.Item"):
    itemId: str = ""
    score: float = 0.0
    rank: int = 0
    small: Short = Short(0)
    big: Long = Long(0)
    tiny: hessian2.Byte = hessian2.Byte(0)
    flag: bool = False
    extra: Any = None


@dataclass(eq=False)
class EsBox(JavaObject, java_class="test.es.Box"):
    items: list[EsItem] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    ids: list[Long] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    loose: list = field(default_factory=list)
    child: EsBox | None = None
    anything: Any = None


# ---------------------------------------------------------------- strategies

_INT_EDGES = [
    0,
    1,
    -1,
    -16,
    -17,
    47,
    48,
    -2048,
    -2049,
    2047,
    2048,
    -262144,
    -262145,
    262143,
    262144,
    -(1 << 31),
    -(1 << 31) - 1,
    (1 << 31) - 1,
    1 << 31,
    -(1 << 63),
    (1 << 63) - 1,
    -8,
    -9,
    15,
    16,
]
edge_ints = (
    st.sampled_from(_INT_EDGES)
    | st.sampled_from(_INT_EDGES).map(lambda v: v + 1)
    | st.integers(-(1 << 63), (1 << 63) - 1)
)
_FLOAT_EDGES = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    127.0,
    128.0,
    -128.0,
    -129.0,
    32767.0,
    32768.0,
    -32768.0,
    -32769.0,
    0.001,
    -0.001,
    12.25,
    0.1,
    1e-300,
    5e-324,
    1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
    2147483647.0,
    2147483648.0,
    -2147483648.0,
    -2147483649.0,
    2147483.647,
    2147483.648,
    -2147483.648,
    -2147483.649,
    1999999.999,
    2000000.5,
    0.5,
    1.0 / 3,
]
edge_floats = (
    st.sampled_from(_FLOAT_EDGES)
    | st.floats()
    | st.integers(-(1 << 31), (1 << 31) - 1).map(lambda m: m / 1000.0)
    | st.integers(-40000, 40000).map(float)
)
unicode = (
    st.text(max_size=40)
    | st.text(alphabet=st.characters(min_codepoint=0x10000), max_size=5)
    | st.text(alphabet=st.characters(blacklist_categories=()), max_size=20)
    | st.text(
        alphabet=st.sampled_from(
            [
                "a",
                "\x00",
                "\x7f",
                "\x80",
                "é",
                "\u07ff",
                "\u0800",
                "中",
                "\uffff",
                "\U0001f600",
                "\U0010ffff",
                "\ud800",
                "\udbff",
                "\udc00",
                "\udfff",
            ]
        ),
        max_size=24,
    )
)  # every UTF-8 width, astral characters and lone surrogates
_LONG_PIECES = ["x", "é", "中", "\U0001f600", "\ud800", "\udc00"]


@st.composite
def long_texts(draw):
    """Strings of 0x7FF0..0x10010 units and beyond, with multi-byte and surrogate characters at the chunk edge."""
    base = draw(st.integers(0x7FF0, 0x8010))
    head = "a" * base
    middle = "".join(draw(st.lists(st.sampled_from(_LONG_PIECES), max_size=6)))
    tail = draw(st.sampled_from(["", "b" * 0x8000, "é" * 0x8001, "\U0001f600" * 0x4001]))
    return head + middle + tail


scalars = st.none() | st.booleans() | edge_ints | edge_floats | unicode
leaf_items = st.builds(
    EsItem,
    itemId=unicode,
    score=edge_floats,
    rank=st.integers(-(1 << 31), (1 << 31) - 1),
    small=st.integers(-32768, 32767).map(Short),
    big=st.integers(-(1 << 63), (1 << 63) - 1).map(Long),
    tiny=st.integers(-128, 127).map(hessian2.Byte),
    flag=st.booleans(),
    extra=scalars,
)


def _nest(children):
    return (
        st.lists(children, max_size=8)
        | st.lists(children, max_size=8).map(tuple)
        | st.dictionaries(scalars.filter(lambda k: k == k), children, max_size=5)
        | st.builds(TypedList, st.just("java.util.LinkedList"), st.lists(children, max_size=4))
        | st.builds(TypedMap, st.just("java.util.TreeMap"), st.dictionaries(unicode, children, max_size=3))
        | st.builds(JavaGenericObject, st.just("a.B"), st.dictionaries(st.sampled_from("xyz"), children, max_size=3))
    )


nested = st.recursive(scalars | leaf_items, _nest, max_leaves=30)
boxes = st.recursive(
    st.builds(
        EsBox,
        items=st.lists(leaf_items, max_size=4),
        names=st.lists(unicode | st.none(), max_size=4),
        ids=st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=4),
        weights=st.dictionaries(unicode, edge_floats, max_size=3),
        loose=st.lists(scalars, max_size=4),
        anything=nested,
    ),
    lambda child: st.builds(EsBox, child=child, items=st.lists(leaf_items, max_size=2)),
    max_leaves=4,
)


# ---------------------------------------------------------------- tests


@needs_compiled
@pytest.mark.parametrize("name", sorted(CASES))
def test_vector_cases_encode_the_same(name):
    value = CASES[name]
    outcome = same_both_ways(*(value if name == "stream" else [value]))
    assert outcome[0] == "ok"
    if name not in NOT_BYTE_EXACT:
        assert outcome[1] == (VECTORS / f"{name}.bin").read_bytes()


@needs_compiled
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_decoded_from_java_bytes_encode_the_same(name):
    value = decode(name, (VECTORS / f"{name}.bin").read_bytes())
    assert same_both_ways(*(value if name == "stream" else [value]))[0] == "ok"


@needs_compiled
@SETTINGS
@given(values | trees | nested)
def test_nested_values_encode_the_same(value):
    same_both_ways(value)


@needs_compiled
@SETTINGS
@given(boxes)
def test_dataclasses_encode_the_same(box):
    same_both_ways(box, box.items, box)  # a second write of the same objects is all references


@needs_compiled
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(long_texts())
def test_long_strings_chunk_the_same(text):
    assert same_both_ways(text, [text], EsItem(itemId=text))[0] == "ok"


@needs_compiled
@pytest.mark.parametrize(
    "value", [*_INT_EDGES, *(v + 1 for v in _INT_EDGES), *(Long(v) for v in _INT_EDGES), *_FLOAT_EDGES], ids=repr
)
def test_scalar_boundaries_encode_the_same(value):
    outcome = same_both_ways(value, [value], {value: value} if value == value else None)
    assert outcome[0] == ("ok" if isinstance(value, float) or -(1 << 63) <= value < (1 << 63) else "error")


@needs_compiled
def test_shared_and_cyclic_values_encode_the_same():
    inner = [1, "a"]
    loop: list = []
    loop.append(loop)
    mapping: dict = {}
    mapping["self"] = mapping
    box = EsBox(loose=[inner, inner])
    box.child = box
    item = EsItem("shared")
    shared = EsBox(items=[item, item], anything=item)
    for value in (inner, [inner, inner], loop, mapping, box, shared, (inner, inner)):
        assert same_both_ways(value, value)[0] == "ok"


class _Opaque:
    pass


@needs_compiled
@pytest.mark.parametrize(
    "value",
    [
        object(),
        _Opaque(),
        [1, _Opaque()],
        {"k": {1, 2, object()}},
        1 << 63,
        -(1 << 63) - 1,
        [1 << 70],
        EsItem(rank=1 << 31),
        EsItem(small=40000),
        EsItem(tiny=200),
        EsItem(itemId=5),  # type: ignore[arg-type]  # the wrong type on purpose
        EsItem(flag="yes"),  # type: ignore[arg-type]  # the wrong type on purpose
        EsItem(score="x"),  # type: ignore[arg-type]  # the wrong type on purpose
        EsItem(big=1 << 64),
        EsItem(extra=_Opaque()),
        EsBox(items=[EsItem(), "not an item"]),  # type: ignore[list-item]  # the wrong type on purpose
        EsBox(names=["a", 3]),  # type: ignore[list-item]  # the wrong type on purpose
        EsBox(ids=[1, 2.5]),  # type: ignore[list-item]  # the wrong type on purpose
        EsBox(weights={"w": "heavy"}),  # type: ignore[dict-item]  # the wrong type on purpose
        EsBox(weights={1: 1.0}),  # type: ignore[dict-item]  # the wrong type on purpose
        EsBox(child=EsBox(child=EsBox(items=[EsItem(rank=2.5)]))),  # type: ignore[arg-type]  # on purpose
        EsBox(items="abc"),  # type: ignore[arg-type]  # the wrong type on purpose
        EsBox(anything=[{"x": object()}]),
    ],
    ids=lambda v: type(v).__name__,
)
def test_unencodable_values_fail_the_same_way(value):
    outcome = same_both_ways(value)
    assert outcome[0] == "error" and issubclass(outcome[1], hessian2.EncodeError), outcome


@needs_compiled
def test_missing_attribute_fails_the_same_way():
    box = EsBox()
    del box.items  # no class attribute behind it (default_factory)
    outcome = same_both_ways(EsBox(child=box))
    assert (
        outcome[0] == "error"
        and outcome[1] is hessian2.EncodeError
        and "test.es.Box.child: test.es.Box.items" in outcome[2]
    )


@needs_compiled
def test_depth_limit_fails_the_same_way():
    deep: Any = []
    for _ in range(_encoder.MAX_DEPTH + 5):
        deep = [deep]
    assert same_both_ways(deep)[0] == "error"
    box = EsBox()
    for _ in range(_encoder.MAX_DEPTH + 5):
        box = EsBox(child=box)
    outcome = same_both_ways(box)
    assert outcome[0] == "error" and "nested deeper" in outcome[2]
    mapping: Any = {}
    for _ in range(_encoder.MAX_DEPTH + 5):
        mapping = {"k": mapping}
    assert same_both_ways(mapping)[0] == "error"


@needs_compiled
def test_more_than_sixteen_classes_encode_the_same():
    classes: list[Any] = [
        dataclass(
            type(f"EsMany{i}", (JavaObject,), {"__annotations__": {"v": int}, "v": 0}, java_class=f"test.es.Many{i}")
        )
        for i in range(20)
    ]
    stream = [cls(v=i) for i, cls in enumerate(classes)] + [cls(v=7) for cls in classes]
    assert same_both_ways(*stream)[0] == "ok"
    assert same_both_ways(stream)[0] == "ok"


def test_pure_python_switch_installs_nothing_compiled():
    code = (
        "import json; from hessian2 import _encoder as e; from hessian2 import _decoder as d; "
        "from tests.hessian2.test_encoder_speedups import EsItem; e.Encoder().plan(EsItem); "
        "print(json.dumps([e.SPEEDUPS, d.SPEEDUPS, e.Encoder.write_any is e.PURE_WRITE_ANY, "
        "e._SCALAR_WRITERS['any'] is e.PURE_WRITE_ANY, e._PLANS[EsItem].write is e._PLANS[EsItem].pywrite, "
        "e._native is None]))"
    )
    env = dict(os.environ, HESSIAN2_PURE_PYTHON="1")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(out.stdout) == [False, False, True, True, True, True]


def test_without_the_extension_the_pure_path_is_used():
    """A machine without a C compiler has no _encspeedups: the import falls back quietly."""
    code = (
        "import sys; sys.modules['hessian2._encspeedups'] = None; import hessian2; "
        "from hessian2 import _encoder as e; "
        "from tests.hessian2.vector_cases import CASES; "
        "assert not e.SPEEDUPS and e.Encoder.write_any is e.PURE_WRITE_ANY; "
        "print(hessian2.dumps(CASES['recommend_response']).hex())"
    )
    env = {k: v for k, v in os.environ.items() if k != "HESSIAN2_PURE_PYTHON"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert bytes.fromhex(out.stdout.strip()) == (VECTORS / "recommend_response.bin").read_bytes()


@needs_compiled
def test_compiled_writers_are_installed_by_default():
    assert _encoder.Encoder.write_any is not _encoder.PURE_WRITE_ANY
    assert _encoder.Encoder().plan(EsItem).write is not _encoder.Encoder().plan(EsItem).pywrite


@needs_compiled
def test_long_mixed_streams_keep_their_order():
    """Past the compiled writer's 1 KiB gathering buffer, with Python writers called in between."""
    import datetime as dt
    import decimal

    mixed = []
    for i in range(600):
        mixed += [
            f"s{i}",
            i * 1000,
            Long(i),
            0.5 + i,
            dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            decimal.Decimal(i),
            TypedList("[int", [i]),
            EsItem(itemId="é" * (i % 40), rank=i),
            b"\x00" * (i % 20),
        ]
    assert same_both_ways(mixed, EsBox(loose=mixed, items=[EsItem(rank=i) for i in range(300)]))[0] == "ok"
