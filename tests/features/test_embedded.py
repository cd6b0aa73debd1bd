"""The embedded store answers exactly what the artifact says, in little memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.artifacts import ArtifactError
from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.codec import (
    Encoding,
    item_from_record,
    item_from_row,
    item_to_row,
    row_codec,
    user_from_record,
)
from dubbo_recsys.features.embedded import EmbeddedFeatureStore, PackedTable
from tests.features.fixtures import expected_by_id, write_artifact

pytestmark = pytest.mark.asyncio


async def test_every_user_and_item_matches_its_record(artifact_dir: Path, records: Any) -> None:
    users, items = records
    store = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    want_users = expected_by_id(users)
    want_items = expected_by_id(items)
    assert await store.users(list(want_users)) == [user_from_record(r) for r in want_users.values()]
    assert await store.items(list(want_items)) == [item_from_record(r) for r in want_items.values()]


async def test_missing_ids_are_none_in_place(artifact_dir: Path) -> None:
    store = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    got = await store.items(["nope", "i1", "", "I1"])
    assert got[0] is None and got[2] is None and got[3] is None
    assert got[1] is not None and got[1].item_id == "i1"
    assert await store.users(["missing"]) == [None]
    assert await store.items([]) == []


async def test_duplicate_id_later_line_wins(artifact_dir: Path) -> None:
    store = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    [item] = await store.items(["i5"])
    assert item is not None and item.author == "second-line-wins" and item.popularity == 999.0


async def test_hash_collisions_cost_a_decode_not_a_wrong_answer() -> None:
    items = [item_from_record({"id": f"x{n}", "author": f"a{n}"}) for n in range(50)]
    table = PackedTable.build(items, item_to_row, item_from_row, key_hash=lambda _: 42)
    for n in (0, 17, 49):
        found = table.get(f"x{n}")
        assert found is not None and found.author == f"a{n}"
    assert table.get("x50") is None


@pytest.mark.parametrize("encoding", list(Encoding))
async def test_both_private_encodings_answer_the_same(encoding: Encoding, records: Any) -> None:
    _, items = records
    parsed = [item_from_record(r) for r in items]
    table = PackedTable.build(parsed, item_to_row, item_from_row, codec=row_codec(encoding))
    want = expected_by_id(items)
    assert [table.get(i) for i in want] == [item_from_record(r) for r in want.values()]
    assert table.get("absent") is None


async def test_memory_is_close_to_the_data(artifact_dir: Path) -> None:
    store = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    jsonl = sum((artifact_dir / "features" / f).stat().st_size for f in ("users.jsonl", "items.jsonl"))
    entities = sum(store.counts)
    # packed rows drop the field names; the index costs 20 bytes per entity
    assert store.nbytes <= jsonl + 24 * entities


async def test_bad_ids_raise_feature_store_error(artifact_dir: Path) -> None:
    store = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    with pytest.raises(FeatureStoreError):
        await store.items("i1")  # a string, not a list of ids
    with pytest.raises(FeatureStoreError):
        await store.users([1])  # type: ignore[list-item]  # not a string, on purpose


async def test_bad_artifact_is_an_artifact_error(tmp_path: Path) -> None:
    write_artifact(tmp_path, [{"id": "u", "last_n": "i1"}], [])
    with pytest.raises(ArtifactError, match=r"users\.jsonl:1"):
        EmbeddedFeatureStore.from_artifacts(tmp_path)
