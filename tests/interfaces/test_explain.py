"""interfaces.explain: the typed explain survives its debugInfo wire form, and any map of strings reads."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dubbo_recsys.interfaces.explain import Explain, ExplainItem, StageExplain, channel_mix

RANK = StageExplain(
    stage="din",
    kind="rank",
    millis=3.25,
    candidatesIn=200,
    candidatesOut=200,
    channels={"u2i": 120, "itemcf": 95},
    top=(ExplainItem("42", 0.91, 0.37, ("u2i", "itemcf")), ExplainItem("7", 0.5, None, ())),
    version="20260101-abc",
)


def test_a_typed_explain_round_trips_through_debug_info() -> None:
    explain = Explain(stages=(RANK,), failures=("full: overloaded",), notes=("swing: timed out",), other={"x": "y"})
    wire = explain.to_debug_info()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in wire.items())
    assert Explain.from_debug_info(wire) == explain


def test_the_wire_form_keeps_the_first_version_keys_java_callers_read() -> None:
    document = json.loads(Explain(stages=(RANK,)).to_debug_info()["din"])
    assert (document["kind"], document["millis"], document["in"], document["out"]) == ("rank", 3.25, 200, 200)
    assert document["top"][0] == {"itemId": "42", "score": 0.91, "before": 0.37, "channels": ["u2i", "itemcf"]}
    assert document["top"][1] == {"itemId": "7", "score": 0.5}


def test_a_first_version_trace_reads_with_empty_new_fields() -> None:
    old = {
        "multi_channel": '{"kind": "recall", "millis": 1.5, "in": 0, "out": 3, "top": [{"itemId": "a", "score": 1}]}'
    }
    [stage] = Explain.from_debug_info(old).stages
    assert stage.candidatesOut == 3 and stage.channels == {} and stage.top == (ExplainItem("a", 1.0),)


def test_channel_mix_counts_a_candidate_once_per_channel() -> None:
    assert channel_mix([("u2i",), ("u2i", "swing"), ()]) == {"u2i": 2, "swing": 1}


@given(st.dictionaries(st.sampled_from(["failures", "notes", "a", "b"]) | st.text(max_size=8), st.text(max_size=40)))
def test_any_map_of_strings_reads_and_nothing_is_dropped(debug_info: dict[str, str]) -> None:
    explain = Explain.from_debug_info(debug_info)
    for key, text in debug_info.items():
        as_list = key in ("failures", "notes") and isinstance(_loads(text), list)
        assert as_list or key in explain.other or key in {s.stage for s in explain.stages}, key


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
