"""Training examples as files: written from arrays, streamed back in shuffled windows, every row once per epoch."""

from __future__ import annotations

import numpy as np

from dubbo_recsys.offline.artifact_files import write_npz_chunks
from dubbo_recsys.offline.examples import history_windows, write_example_files


def _log(users: int = 40, per_user: int = 9) -> tuple[np.ndarray, np.ndarray]:
    user = np.repeat(np.arange(users, dtype=np.int32), per_user)
    item = np.random.default_rng(0).integers(0, 50, len(user)).astype(np.int32)
    return user, item


def test_files_hold_each_rows_previous_items_newest_first(tmp_path):
    user, item = _log()
    examples = write_example_files(tmp_path / "ex", user, item, 4, rows_per_file=50)  # files cut inside users
    assert len(examples.paths) == 8 and examples.count == len(user)
    got_user, got_item, history = examples.read_all()
    assert np.array_equal(got_user, user) and np.array_equal(got_item, item)
    assert np.array_equal(history, history_windows(user, item, 4))
    assert history[0].tolist() == [-1, -1, -1, -1]  # a user's first event has no history
    assert history[3].tolist() == [item[2], item[1], item[0], -1]


def test_each_epoch_streams_every_row_once_in_a_new_order(tmp_path):
    user, item = _log(users=200, per_user=10)
    examples = write_example_files(tmp_path / "ex", user, item, 3, rows_per_file=300)
    rng = np.random.default_rng(5)
    epochs = []
    for _ in range(2):
        rows = [np.stack([u, i], axis=1) for u, i, _ in examples.batches(64, rng, window_rows=500)]
        epochs.append(np.concatenate(rows))
    for epoch in epochs:
        assert len(epoch) == len(user)
        assert sorted(map(tuple, epoch.tolist())) == sorted(zip(user.tolist(), item.tolist(), strict=True))
    assert not np.array_equal(epochs[0], epochs[1])


def test_npz_written_in_chunks_loads_as_one_array(tmp_path):
    chunks = [{"a": np.arange(n, dtype=np.int32), "b": np.ones((n, 3), np.float32) * n} for n in (5, 0, 7)]
    rows = write_npz_chunks(tmp_path / "x.npz", chunks, tmp_path / "scratch")
    assert rows == {"a": 12, "b": 12}
    with np.load(tmp_path / "x.npz") as data:
        assert data["a"].tolist() == [*range(5), *range(7)]
        assert data["b"].shape == (12, 3) and data["b"][-1].tolist() == [7.0, 7.0, 7.0]
