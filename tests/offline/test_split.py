"""Leave-last-out: the held-out row is each user's last by time, and it is not in train."""

from __future__ import annotations

import numpy as np

from dubbo_recsys.offline.dataset import Interactions, SourceData
from dubbo_recsys.offline.split import leave_last_out
from tests.offline.artifacts import arrays, ids


def _source(user, item, ts) -> SourceData:
    n_users, n_items = max(user) + 1, max(item) + 1
    return SourceData(
        name="hand",
        fingerprint="",
        user_ids=np.array([f"u{i}" for i in range(n_users)]),
        item_ids=np.array([f"i{i}" for i in range(n_items)]),
        user_profile={},
        category_names=np.array([], dtype=str),
        category_ptr=np.zeros(n_items + 1, dtype=np.int64),
        category_codes=np.array([], dtype=np.int32),
        item_author=np.full(n_items, ""),
        item_region=np.full(n_items, ""),
        item_attrs={},
        interactions=Interactions(
            np.array(user, dtype=np.int32),
            np.array(item, dtype=np.int32),
            np.array(ts, dtype=np.int64),
            np.ones(len(user), dtype=np.float32),
        ),
    )


def test_last_by_time_with_ties_broken_by_file_order():
    # user 0: items 3 and 1 share the latest time; 1 comes later in the file, so it is held out.
    # user 1: a single interaction stays in train. user 2: out-of-order timestamps.
    split = leave_last_out(
        _source(
            user=[0, 2, 0, 0, 1, 2, 2],
            item=[0, 5, 3, 1, 2, 4, 6],
            ts=[10, 50, 30, 30, 7, 90, 20],
        )
    )
    assert split.test.user.tolist() == [0, 2]
    assert split.test.item.tolist() == [1, 4]
    assert split.train.user.tolist() == [0, 0, 1, 2, 2]
    assert split.train.item.tolist() == [0, 3, 2, 6, 5]


def test_repeated_item_keeps_its_earlier_events_in_train():
    split = leave_last_out(_source(user=[0, 0, 0], item=[1, 2, 1], ts=[1, 2, 3]))
    assert split.test.item.tolist() == [1]
    assert split.train.item.tolist() == [1, 2]


def check_split(root) -> None:
    train, test = arrays(root, "interactions/train.npz"), arrays(root, "interactions/test.npz")
    assert train["user"].dtype == np.int32 and train["ts"].dtype == np.int64 and train["rating"].dtype == np.float32
    # train sorted by user then time
    order = np.lexsort((train["ts"], train["user"]))
    assert np.array_equal(order, np.arange(len(order)))
    # one test row per user with >= 2 interactions, sorted by user
    n_users = len(ids(root, "users"))
    counts = np.bincount(train["user"], minlength=n_users) + np.bincount(test["user"], minlength=n_users)
    assert len(counts) == n_users
    assert np.array_equal(test["user"], np.sort(test["user"]))
    assert len(np.unique(test["user"])) == len(test["user"])
    assert set(np.flatnonzero(counts >= 2)) == set(test["user"].tolist())
    # the test row is no earlier than any train row of its user
    last_train_ts = np.full(counts.shape[0], np.iinfo(np.int64).min)
    np.maximum.at(last_train_ts, train["user"], train["ts"])
    assert np.all(test["ts"] >= last_train_ts[test["user"]])


def test_artifact_split(any_artifacts):
    check_split(any_artifacts)


def test_ml100k_counts_and_no_leakage(ml100k_artifacts):
    train, test = arrays(ml100k_artifacts, "interactions/train.npz"), arrays(ml100k_artifacts, "interactions/test.npz")
    assert len(train["user"]) + len(test["user"]) == 100_000
    assert len(test["user"]) == 943  # every ML-100K user has at least 20 ratings
    # ML-100K has no repeated (user, item): the held-out pair must be absent from train.
    train_pairs = set(zip(train["user"].tolist(), train["item"].tolist(), strict=True))
    assert not any(pair in train_pairs for pair in zip(test["user"].tolist(), test["item"].tolist(), strict=True))
