"""Row schema, byte encodings, prefix validation and id checks (no I/O; the key layout: test_keys.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubbo_recsys.features.base import FeatureStoreError, ItemFeatures, UserFeatures
from dubbo_recsys.features.codec import (
    Encoding,
    FeatureCodecError,
    KeyLayout,
    check_ids,
    item_from_record,
    item_from_row,
    item_to_row,
    row_codec,
    user_from_record,
    user_from_row,
    user_to_row,
)

ITEM = ItemFeatures("movie:1", "Comedy", ("Comedy", "Drama"), "Ann", "中部", 12.5, {"year": "1995"})
USER = UserFeatures("u:1", {"age": "30"}, ("i1", "i2"))


@pytest.mark.parametrize("encoding", list(Encoding))
def test_rows_round_trip_in_both_encodings(encoding: Encoding) -> None:
    codec = row_codec(encoding)
    assert item_from_row(codec.decode(codec.encode(item_to_row(ITEM)))) == ITEM
    assert user_from_row(codec.decode(codec.encode(user_to_row(USER)))) == USER


def test_msgpack_is_smaller_than_json() -> None:
    row = item_to_row(ITEM)
    assert len(row_codec(Encoding.MSGPACK).encode(row)) < len(row_codec(Encoding.JSON).encode(row))


@pytest.mark.parametrize("encoding", list(Encoding))
@pytest.mark.parametrize("data", [b"", b"\xc1", b"{not json", b"\x92\x01"])
def test_garbage_bytes_raise_our_error(encoding: Encoding, data: bytes) -> None:
    codec = row_codec(encoding)
    with pytest.raises(FeatureCodecError):
        item_from_row(codec.decode(data))


@pytest.mark.parametrize(
    "row",
    [
        [],
        ["id"],
        [1, "c", [], "", "", 0.0, {}],
        ["id", "c", "notalist", "", "", 0.0, {}],
        ["id", "c", [], "", "", "high", {}],
        ["id", "c", [], "", "", float("nan"), {}],
        ["id", "c", [], "", "", True, {}],
        ["id", "c", [], "", "", 1.0, {"k": 1}],
        "string",
    ],
)
def test_malformed_item_rows_are_rejected(row: object) -> None:
    with pytest.raises(FeatureCodecError):
        item_from_row(row)


def test_records_take_defaults_for_missing_optional_fields() -> None:
    assert item_from_record({"id": "x"}) == ItemFeatures("x")
    assert user_from_record({"id": "u"}) == UserFeatures("u")
    assert item_from_record({"id": "x", "popularity": 3}).popularity == 3.0


@pytest.mark.parametrize("record", [None, [], {"category": "no id"}, {"id": 5}, {"id": "x", "attrs": []}])
def test_bad_records_name_the_field(record: object) -> None:
    with pytest.raises(FeatureCodecError):
        item_from_record(record)


@pytest.mark.parametrize("prefix", ["", "has space", "x" * 65, "new\nline", "{tag}", "a}b"])
def test_bad_prefixes_are_rejected(prefix: str) -> None:
    with pytest.raises(FeatureStoreError):
        KeyLayout(prefix)


@pytest.mark.parametrize("ids", ["abc", b"abc", ["a", 1], [None]])
def test_check_ids_rejects_non_string_ids(ids: object) -> None:
    with pytest.raises(FeatureStoreError):
        check_ids(ids, "item_ids")


def test_check_ids_accepts_any_sequence_of_strings() -> None:
    assert check_ids(("a", "b"), "x") == ["a", "b"]


# --- properties ---------------------------------------------------------------------------------------

texts = st.text(max_size=20)
items = st.builds(
    ItemFeatures,
    item_id=texts,
    category=texts,
    categories=st.lists(texts, max_size=4).map(tuple),
    author=texts,
    region=texts,
    popularity=st.floats(allow_nan=False, allow_infinity=False),
    attrs=st.dictionaries(texts, texts, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(item=items, encoding=st.sampled_from(list(Encoding)))
def test_any_item_round_trips(item: ItemFeatures, encoding: Encoding) -> None:
    codec = row_codec(encoding)
    assert item_from_row(codec.decode(codec.encode(item_to_row(item)))) == item


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64), encoding=st.sampled_from(list(Encoding)))
def test_arbitrary_bytes_decode_or_raise_our_error(data: bytes, encoding: Encoding) -> None:
    try:
        item = item_from_row(row_codec(encoding).decode(data))
    except FeatureCodecError:
        return
    assert isinstance(item, ItemFeatures)


def test_rows_off_the_fast_path_are_still_accepted_when_valid() -> None:
    assert item_from_row(["x", "c", [], "", "", 3, {}]).popularity == 3.0  # int popularity from another writer
    assert item_from_row(["x", "c", ("a",), "", "", 1.0, {}]).categories == ("a",)
