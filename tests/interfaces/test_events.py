"""The event contract: decoding, every refusal reason, and agreement with the JSON Schema file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dubbo_recsys.interfaces.events import (
    MAX_EVENT_BYTES,
    Action,
    EventError,
    EventErrorReason,
    ItemEvent,
    ItemOp,
    UserEvent,
    decode_item_event,
    decode_user_event,
    encode_event,
)

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "interfaces" / "events.schema.json").read_text())
USER = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/userEvent"})  # what a user topic holds
ITEM = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/itemEvent"})

CLICK = {"eventId": "e-1", "userId": "196", "itemId": "242", "action": "click", "ts": 1733400000000}


def test_the_schema_file_is_a_valid_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_a_user_event_round_trips_and_takes_defaults() -> None:
    event = decode_user_event(json.dumps(CLICK).encode())
    assert event == UserEvent("e-1", "196", "242", Action.CLICK, 1733400000000)
    assert (event.value, event.scene, event.request_id) == (1.0, "", "")
    full = UserEvent("e-2", "u", "i", Action.RATE, 5, value=4.5, scene="home", request_id="r")
    assert decode_user_event(encode_event(full)) == full


def test_item_events_round_trip() -> None:
    upsert = ItemEvent(
        "e",
        "9001",
        ItemOp.UPSERT,
        7,
        {"category": "Comedy", "categories": ["Comedy"], "author": "", "region": "", "popularity": 0.0, "attrs": {}},
    )
    assert decode_item_event(encode_event(upsert)) == upsert
    remove = ItemEvent("e", "9001", ItemOp.REMOVE, 8)
    assert decode_item_event(encode_event(remove)) == remove
    assert (
        decode_item_event(b'{"eventId":"e","itemId":"x","op":"upsert","ts":1,"item":{}}').features["categories"] == []
    )


def test_a_double_ts_with_no_fraction_is_accepted() -> None:
    assert decode_user_event(json.dumps({**CLICK, "ts": 1.7e12})).ts == 1_700_000_000_000


@pytest.mark.parametrize(
    "document, reason",
    [
        (b"{not json", EventErrorReason.NOT_JSON),
        (b'{"ts": NaN}', EventErrorReason.NOT_JSON),
        (b"\xff\xfe", EventErrorReason.NOT_JSON),
        (b"[1, 2]", EventErrorReason.NOT_OBJECT),
        (b" " * (MAX_EVENT_BYTES + 1), EventErrorReason.TOO_LARGE),
        ({k: v for k, v in CLICK.items() if k != "userId"}, EventErrorReason.MISSING_FIELD),
        ({k: v for k, v in CLICK.items() if k != "action"}, EventErrorReason.MISSING_FIELD),
        ({k: v for k, v in CLICK.items() if k != "ts"}, EventErrorReason.MISSING_FIELD),
        ({**CLICK, "userId": 196}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "itemId": ""}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "itemId": "x" * 257}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "value": "5"}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "value": True}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "ts": "1733400000000"}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "ts": 1.5}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "scene": 3}, EventErrorReason.BAD_FIELD),
        ({**CLICK, "action": "like"}, EventErrorReason.UNKNOWN_ACTION),
        ({**CLICK, "action": 1}, EventErrorReason.UNKNOWN_ACTION),
        ({**CLICK, "ts": 0}, EventErrorReason.TS_OUT_OF_RANGE),
        ({**CLICK, "ts": 1 << 53}, EventErrorReason.TS_OUT_OF_RANGE),
    ],
)
def test_user_event_refusals_name_their_reason(document: Any, reason: EventErrorReason) -> None:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(EventError) as caught:
        decode_user_event(data)
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    "document, reason",
    [
        ({"eventId": "e", "itemId": "i", "ts": 1}, EventErrorReason.MISSING_FIELD),
        ({"eventId": "e", "itemId": "i", "op": "upsert", "ts": 1}, EventErrorReason.MISSING_FIELD),
        ({"eventId": "e", "itemId": "i", "op": "delete", "ts": 1}, EventErrorReason.UNKNOWN_OP),
        ({"eventId": "e", "itemId": "i", "op": "upsert", "ts": 1, "item": []}, EventErrorReason.BAD_FIELD),
        (
            {"eventId": "e", "itemId": "i", "op": "upsert", "ts": 1, "item": {"categories": "Comedy"}},
            EventErrorReason.BAD_FIELD,
        ),
        (
            {"eventId": "e", "itemId": "i", "op": "upsert", "ts": 1, "item": {"attrs": {"year": 1995}}},
            EventErrorReason.BAD_FIELD,
        ),
        ({"eventId": "e", "itemId": "i", "op": "remove", "ts": 1, "item": "gone"}, EventErrorReason.BAD_FIELD),
    ],
)
def test_item_event_refusals_name_their_reason(document: Any, reason: EventErrorReason) -> None:
    with pytest.raises(EventError) as caught:
        decode_item_event(json.dumps(document))
    assert caught.value.reason is reason


@pytest.mark.parametrize("number", ["1" + "0" * 400, "1e309", "-1e309"])
def test_numbers_beyond_a_double_are_refused(number: str) -> None:
    document = json.dumps(CLICK)[:-1] + f', "value": {number}}}'
    with pytest.raises(EventError) as caught:
        decode_user_event(document)
    assert caught.value.reason in (EventErrorReason.NOT_JSON, EventErrorReason.BAD_FIELD)  # the parser's call
    assert not USER.is_valid(json.loads(document))


def test_the_standard_library_parser_refuses_what_orjson_refuses() -> None:
    from dubbo_recsys.interfaces import events

    for bad in (b'{"ts": NaN}', b'{"ts": Infinity}', b"\xff", b"[1,"):
        with pytest.raises(ValueError, match=r"."):
            events._stdlib_loads(bad)


def test_errors_say_where() -> None:
    with pytest.raises(EventError, match=r"at \$\.ts"):
        decode_user_event(json.dumps({**CLICK, "ts": "soon"}))
    with pytest.raises(EventError, match=r"at \$\.item\.attrs"):
        decode_item_event(json.dumps({"eventId": "e", "itemId": "i", "op": "upsert", "ts": 1, "item": {"attrs": 1}}))


# --- the schema file and the decoder agree -------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 60), max_value=1 << 60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.sampled_from(["", "click", "rate", "exposure", "upsert", "remove", "x" * 257]),
)
_values = st.one_of(
    _scalars, st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), _scalars, max_size=2)
)


def _documents(fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly-valid documents: each field kept, dropped or replaced by an arbitrary value."""
    parts = {
        name: st.one_of(st.just(value), st.just(_DROP), _values) if name != "item" else st.one_of(value, st.just(_DROP))
        for name, value in fields.items()
    }
    return st.fixed_dictionaries(parts).map(lambda d: {k: v for k, v in d.items() if v is not _DROP})


_DROP = object()
_item_bodies = st.fixed_dictionaries(
    {},
    optional={
        "category": st.one_of(st.text(max_size=3), st.integers()),
        "categories": st.one_of(st.lists(st.text(max_size=3), max_size=2), st.lists(st.integers(), max_size=1)),
        "popularity": st.one_of(st.floats(allow_nan=False), st.integers(), st.booleans(), st.text(max_size=1)),
        "attrs": st.dictionaries(st.text(max_size=2), st.one_of(st.text(max_size=2), st.integers()), max_size=2),
    },
)


def _agree(decode: Any, validator: Draft202012Validator, document: dict[str, Any]) -> None:
    try:
        decode(json.dumps(document))
        ours = True
    except EventError:
        ours = False
    assert ours == validator.is_valid(document), document


@settings(max_examples=400, deadline=None)
@given(_documents({**CLICK, "value": 2.5, "scene": "home", "requestId": "r"}))
def test_user_decoder_and_schema_agree(document: dict[str, Any]) -> None:
    _agree(decode_user_event, USER, document)


@settings(max_examples=400, deadline=None)
@given(_documents({"eventId": "e", "itemId": "9001", "op": "upsert", "ts": 5, "item": _item_bodies}))
def test_item_decoder_and_schema_agree(document: dict[str, Any]) -> None:
    _agree(decode_item_event, ITEM, document)
