"""Encoder(pause=...): a long encode hands control back every few KiB of output, on both paths."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings

import hessian2
from hessian2 import Encoder, JavaObject, Long, MapEntries, TypedList, _encoder, typed_writer
from tests.hessian2.test_properties import trees, values

PATHS = [
    pytest.param(True, id="compiled", marks=pytest.mark.skipif(not _encoder.SPEEDUPS, reason="no compiled path")),
    pytest.param(False, id="pure"),
]


class Stop(BaseException):
    pass


@dataclass
class Row(JavaObject, java_class="test.pause.Row"):
    name: str = ""
    scores: list[float] = field(default_factory=list)


@contextmanager
def path(compiled: bool) -> Iterator[None]:
    previous = _encoder.set_compiled(compiled)
    try:
        yield
    finally:
        _encoder.set_compiled(previous)


def encode(value: object, pause: Callable[[], None] | None, every: int = 512, writer: object = None) -> bytes:
    encoder = Encoder(pause=pause, pause_every=every)
    encoder.write(value, writer)  # type: ignore[arg-type]  # None or a typed_writer
    return encoder.getvalue()


@pytest.mark.parametrize("compiled", PATHS)
@settings(max_examples=150, deadline=None)
@given(value=values | trees)
def test_pausing_changes_nothing_in_what_is_encoded(compiled, value):
    with path(compiled):
        assert encode(value, lambda: None, every=16) == hessian2.dumps(value)


SHAPES: dict[str, tuple[object, object]] = {
    "list": ([f"s{i}" for i in range(20_000)], None),
    "tuple": (tuple(range(40_000)), None),
    "map": ({f"k{i}": i for i in range(8_000)}, None),
    "entries": (MapEntries([(i % 3, f"v{i}") for i in range(8_000)]), None),
    "typed list": (TypedList("java.util.LinkedList", [1.5] * 10_000), None),
    "objects": ([Row(f"r{i}", [0.5, 1.5]) for i in range(5_000)], None),
    "declared longs": (list(range(20_000)), typed_writer(list[Long])),
    "declared map": ({i: [i] for i in range(5_000)}, typed_writer(dict[int, list[int]])),
}


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_container_pauses_about_once_per_pause_every_bytes(compiled, shape):
    value, writer = SHAPES[shape]
    calls: list[int] = []
    with path(compiled):
        data = encode(value, lambda: calls.append(1), 512, writer)
        assert data == encode(value, None, 512, writer)
    assert len(data) // 512 // 2 <= len(calls) <= len(data) // 512, (len(calls), len(data))


@pytest.mark.parametrize("compiled", PATHS)
def test_what_pause_raises_ends_the_encode(compiled):
    def stop() -> None:
        raise Stop

    with path(compiled), pytest.raises(Stop):
        encode([[i, str(i)] for i in range(5_000)], stop)


def test_an_encoder_without_pause_never_reaches_a_checkpoint_and_bad_settings_are_refused():
    assert Encoder().checkpoint > 1 << 60
    with pytest.raises(ValueError, match="pause_every"):
        Encoder(pause=lambda: None, pause_every=0)
