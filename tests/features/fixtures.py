"""A tiny artifact directory in the format of ``offline/ARTIFACTS.md`` (format 1).

Written by the tests themselves until ``dubbo-recsys build`` output is available
in CI: only the files the feature store reads (manifest and features/*.jsonl),
with the awkward cases a real catalog has: unicode and ``:`` in ids, empty
profiles and histories, missing optional fields, integer popularity, and one id
listed twice (the later line wins in both backends).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

CATEGORIES = ("Action", "Comedy", "Drama", "Horror", "Sci-Fi", "Romance", "Animation")
REGIONS = ("north", "south", "east", "west", "中部")


def make_records(
    n_users: int = 60, n_items: int = 400, seed: int = 7
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    item_ids = [f"i{n}" for n in range(n_items - 3)] + ["movie:1:2", "фильм-é", "item with space"]
    items: list[dict[str, Any]] = []
    for n, item_id in enumerate(item_ids):
        cats = rng.sample(CATEGORIES, rng.randint(1, 3))
        record: dict[str, Any] = {
            "id": item_id,
            "category": cats[0],
            "categories": cats,
            "author": f"author-{rng.randint(0, 40)}",
            "region": rng.choice(REGIONS),
            "popularity": rng.randint(0, 500) if n % 2 else round(rng.random() * 100, 3),
            "attrs": {"year": str(1950 + rng.randint(0, 70)), "title": f"Title {n} ✓"},
        }
        if n % 17 == 0:  # optional fields left out
            record = {"id": item_id, "category": cats[0]}
        items.append(record)
    items.append({**items[5], "author": "second-line-wins", "popularity": 999})  # duplicate id
    users: list[dict[str, Any]] = []
    for n in range(n_users):
        history = rng.sample(item_ids, rng.randint(0, 12))
        profile = {"age": str(rng.randint(12, 70)), "gender": rng.choice("MF"), "region": rng.choice(REGIONS)}
        users.append({"id": f"u{n}" if n else "user:0", "profile": profile if n % 9 else {}, "last_n": history})
    return users, items


def write_artifact(root: Path, users: list[dict[str, Any]], items: list[dict[str, Any]]) -> Path:
    (root / "features").mkdir(parents=True, exist_ok=True)
    (root / "ids").mkdir(exist_ok=True)
    for name, records in (("users", users), ("items", items)):
        with (root / "features" / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        (root / "ids" / f"{name}.txt").write_text("".join(r["id"] + "\n" for r in records), encoding="utf-8")
    manifest = {
        "format": 1,
        "name": "features-fixture",
        "version": "fixture-1",
        "built_at": "2026-01-01T00:00:00Z",
        "source": "synthetic",
        "params": {},
        "counts": {"users": len(users), "items": len(items), "train": 0, "test": 0},
        "files": {},
        "software": {},
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def expected_by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The record each id resolves to: the last line that names it."""
    return {r["id"]: r for r in records}
