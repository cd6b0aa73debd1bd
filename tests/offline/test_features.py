"""users.jsonl, items.jsonl and hot.json agree with the train split and never see the test rows."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from tests.offline.artifacts import arrays, ids, jsonl


def test_user_lines_follow_row_order_and_hold_recent_train_items(any_artifacts):
    users, items = ids(any_artifacts, "users"), ids(any_artifacts, "items")
    lines = jsonl(any_artifacts, "features/users.jsonl")
    train = arrays(any_artifacts, "interactions/train.npz")
    manifest = json.loads((any_artifacts / "manifest.json").read_text(encoding="utf-8"))
    n = manifest["params"]["neighbors"]["last_n"]
    assert [line["id"] for line in lines] == users
    bounds = np.searchsorted(train["user"], np.arange(len(users) + 1))
    for row, line in enumerate(lines):
        history = train["item"][bounds[row] : bounds[row + 1]][::-1].tolist()
        expected = list(dict.fromkeys(history))[:n]  # distinct, most recent first
        assert line["last_n"] == [items[i] for i in expected]
        assert all(isinstance(v, str) for v in line["profile"].values())


def test_item_lines_carry_categories_and_train_popularity(any_artifacts):
    items = ids(any_artifacts, "items")
    lines = jsonl(any_artifacts, "features/items.jsonl")
    train = arrays(any_artifacts, "interactions/train.npz")
    popularity = np.bincount(train["item"], minlength=len(items))
    assert [line["id"] for line in lines] == items
    for row, line in enumerate(lines):
        assert set(line) == {"id", "category", "categories", "author", "region", "popularity", "attrs"}
        assert line["popularity"] == popularity[row]
        assert line["category"] == (line["categories"][0] if line["categories"] else "")


def test_hot_lists_are_sorted_by_train_popularity(any_artifacts):
    hot = json.loads((any_artifacts / "hot.json").read_text(encoding="utf-8"))
    items = ids(any_artifacts, "items")
    row = {item: i for i, item in enumerate(items)}
    train = arrays(any_artifacts, "interactions/train.npz")
    popularity = np.bincount(train["item"], minlength=len(items))
    ranked = [popularity[row[i]] for i in hot["global"]]
    assert ranked == sorted(ranked, reverse=True) and len(ranked) > 0
    assert ranked[0] == popularity.max()
    item_lines = {line["id"]: line for line in jsonl(any_artifacts, "features/items.jsonl")}
    for category, members in hot["by_category"].items():
        assert all(category in item_lines[m]["categories"] for m in members)
        counts = [popularity[row[m]] for m in members]
        assert counts == sorted(counts, reverse=True)
    users = jsonl(any_artifacts, "features/users.jsonl")
    region_of_user = np.array([u["profile"].get("region", "") for u in users])
    for region, members in hot["by_region"].items():
        in_region = np.flatnonzero(region_of_user == region)
        local = Counter(train["item"][np.isin(train["user"], in_region)].tolist())
        counts = [local[row[m]] for m in members]
        assert counts == sorted(counts, reverse=True) and counts[0] == max(local.values())
    assert hot["by_region"], "every source has user regions"


def test_ml100k_profile_fields(ml100k_artifacts):
    first = jsonl(ml100k_artifacts, "features/users.jsonl")[0]
    assert first["id"] == "1"
    assert first["profile"] == {
        "age": "24",
        "age_group": "18-24",
        "gender": "M",
        "occupation": "technician",
        "zip": "85711",
        "region": "us-mountain",
    }
    toy_story = jsonl(ml100k_artifacts, "features/items.jsonl")[0]
    assert toy_story["categories"] == ["Animation", "Children's", "Comedy"]
    assert toy_story["attrs"] == {"title": "Toy Story", "release_year": "1995"}
    assert toy_story["author"] == ""
