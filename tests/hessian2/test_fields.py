"""Fields of bound classes against their declared types (hessian2/_fields.py), on both paths.

tests/hessian2/test_java_probes.py checks these rules against hessian-lite itself; here
they are stated one by one, with the cases the probes cannot show (sets that would
merge, map keys that collide once converted, conversions inside containers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

import hessian2
from hessian2 import DecodeError, Float, JavaObject, Long, Short
from tests.hessian2.cost import decoding_path
from tests.hessian2.hostile import Raw, typed_field

PATHS = [pytest.param(True, id="compiled"), pytest.param(False, id="pure")]


@dataclass
class Fields(JavaObject, java_class="test.fields.Fields"):
    n: int = 0
    big: Long = 0
    small: Short = 0
    ratio: Float = 0.0
    text: str = ""
    flag: bool = False
    ids: list[Long] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    tags: set[object] = field(default_factory=set)
    counts: dict[Long, str] = field(default_factory=dict)


def _decode(compiled: bool, **fields: bytes):
    with decoding_path(compiled):
        return hessian2.loads(typed_field(Fields.__java_class__, fields))


@pytest.mark.parametrize("compiled", PATHS)
def test_numbers_convert_as_java_casts_them(compiled):
    got = _decode(compiled, n=Raw.long(1 << 40 | 7), big=Raw.double(-2.9), small=Raw.int(70000), ratio=Raw.int(3))
    assert (got.n, got.big, got.small) == (7, -2, 4464) and type(got.big) is Long
    assert got.ratio == 3.0
    got = _decode(compiled, n=Raw.double(math.nan), big=Raw.double(1e300), ratio=Raw.double(0.1))
    assert got.n == 0 and got.big == (1 << 63) - 1 and got.ratio == 0.10000000149011612  # float precision


@pytest.mark.parametrize("compiled", PATHS)
def test_strings_and_booleans_convert_as_java_reads_them(compiled):
    got = _decode(compiled, text=Raw.double(1e10), flag=Raw.int(2))
    assert got.text == "1.0E10" and got.flag is True
    assert _decode(compiled, text=b"T").text == "true"
    assert _decode(compiled, text=Raw.double(0.001)).text == "0.001"


@pytest.mark.parametrize("compiled", PATHS)
def test_container_elements(compiled):
    got = _decode(compiled, ids=b"\x7a" + Raw.int(1) + Raw.double(2.5))  # boxed Long elements: converted
    assert got.ids == [1, 2] and all(type(i) is Long for i in got.ids)
    with pytest.raises(DecodeError) as info:
        _decode(compiled, names=b"\x7a" + Raw.str("a") + Raw.int(2))  # String elements: not converted, refused
    assert info.value.path == "$.names[1]"


@pytest.mark.parametrize("compiled", PATHS)
def test_a_set_whose_elements_would_merge_stays_a_list(compiled):
    got = _decode(compiled, tags=b"\x7a" + Raw.int(1) + Raw.long(1))
    assert got.tags == [1, 1] and [type(t) for t in got.tags] == [int, Long]
    assert _decode(compiled, tags=b"\x7a" + Raw.int(1) + Raw.int(2)).tags == {1, 2}


@pytest.mark.parametrize("compiled", PATHS)
def test_map_keys_equal_once_converted_are_refused(compiled):
    with pytest.raises(DecodeError, match="equal once read as the declared type"):
        _decode(compiled, counts=Raw.map([(Raw.int(1), Raw.str("a")), (Raw.double(1.5), Raw.str("b"))]))
    got = _decode(compiled, counts=Raw.map([(Raw.int(1), Raw.str("a"))]))
    assert got.counts == {1: "a"} and type(next(iter(got.counts))) is Long


@pytest.mark.parametrize("compiled", PATHS)
def test_refused_values_name_their_field(compiled):
    for fields, path in (
        ({"n": Raw.str("1")}, "$.n"),
        ({"flag": Raw.str("true")}, "$.flag"),
        ({"text": Raw.list([])}, "$.text"),
        ({"ids": Raw.str("x")}, "$.ids"),
    ):
        with pytest.raises(DecodeError) as info:
            _decode(compiled, **fields)
        assert info.value.path == path, fields
