"""The synthetic generator: reproducible for a seed, power-law popularity, well-formed columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dubbo_recsys.offline.config import SyntheticConfig
from dubbo_recsys.offline.errors import BuildConfigError
from dubbo_recsys.offline.synthetic import CHUNK, generate, write_files

CONFIG = SyntheticConfig(users=CHUNK + 500, items=6_000, seed=21, mean_interactions=25.0)  # two chunks


@pytest.fixture(scope="module")
def data():
    return generate(CONFIG)


def test_same_seed_same_data(data):
    again = generate(CONFIG)
    for column in ("user", "item", "ts", "rating"):
        assert np.array_equal(getattr(data.interactions, column), getattr(again.interactions, column))
    assert np.array_equal(data.category_codes, again.category_codes)
    assert np.array_equal(data.item_author, again.item_author)
    assert np.array_equal(data.user_profile["region"], again.user_profile["region"])


def test_other_seed_other_data(data):
    other = generate(dataclasses.replace(CONFIG, seed=22))
    assert not np.array_equal(data.interactions.item[:1000], other.interactions.item[:1000])


def test_popularity_is_power_law_shaped(data):
    counts = np.sort(np.bincount(data.interactions.item, minlength=data.n_items))[::-1].astype(float)
    ranks = np.arange(1, len(counts) + 1)
    head = (counts > 0) & (ranks <= 1_000)
    slope = np.polyfit(np.log(ranks[head]), np.log(counts[head]), 1)[0]
    assert -1.5 < slope < -0.5, slope
    top_share = counts[: len(counts) // 10].sum() / counts.sum()
    assert top_share > 0.5, top_share  # the top 10 % of items take most interactions
    assert counts[0] > 20 * np.median(counts)


def test_users_and_columns_are_well_formed(data):
    per_user = np.bincount(data.interactions.user, minlength=data.n_users)
    assert per_user.min() >= 2
    assert 0.5 * CONFIG.mean_interactions < per_user.mean() < 1.5 * CONFIG.mean_interactions
    pairs = data.interactions.user.astype(np.int64) * data.n_items + data.interactions.item
    assert len(np.unique(pairs)) == len(pairs), "a user interacts with an item at most once"
    assert set(np.unique(data.interactions.rating).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert np.all(np.diff(data.category_ptr) >= 1)
    assert set(data.user_profile) >= {"region", "gender", "age_group"}
    assert all(a.startswith("author-") for a in data.item_author[:100])


def test_bad_sizes_are_rejected_before_any_work():
    with pytest.raises(BuildConfigError, match="items"):
        SyntheticConfig(items=20_000_000)
    with pytest.raises(BuildConfigError, match="users"):
        SyntheticConfig(users=3)


def test_workers_write_the_same_files(tmp_path):
    import pyarrow.parquet as pq

    small = dataclasses.replace(CONFIG, users=3 * CHUNK + 7, mean_interactions=5.0)
    one = write_files(small, tmp_path / "one", rows_per_file=20_000)
    two = write_files(small, tmp_path / "two", rows_per_file=20_000, workers=2)
    assert one == two and one["files"] > 1
    for name in [
        "users.parquet",
        "items.parquet",
        *(f"interactions/part-{n:05d}.parquet" for n in range(one["files"])),
    ]:
        assert pq.read_table(tmp_path / "one" / name).equals(pq.read_table(tmp_path / "two" / name)), name
