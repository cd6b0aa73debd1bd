"""The exported models: both DIN signatures agree, and numpy LR/FM equal their TensorFlow training graphs."""

from __future__ import annotations

import numpy as np
import pytest

from dubbo_recsys.offline.config import SyntheticConfig
from dubbo_recsys.offline.examples import write_example_files
from dubbo_recsys.offline.hot import item_popularity
from dubbo_recsys.offline.rank_model import OFFSET, train_rankers
from dubbo_recsys.offline.rank_steps import RankModelConfig, rank_inputs
from dubbo_recsys.offline.split import leave_last_out
from dubbo_recsys.offline.synthetic import generate
from dubbo_recsys.rank.base import RankArtifacts
from dubbo_recsys.rank.light import LightModel
from dubbo_recsys.rank.tf_ranker import DinModel


def _example(features):
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example()
    for name, values in features.items():
        example.features.feature[name].bytes_list.value.extend(v.encode() for v in values)
    return example.SerializeToString()


def test_serving_default_equals_the_fast_signature(small_artifacts):
    import tensorflow as tf

    artifacts = RankArtifacts.load(small_artifacts)
    model = DinModel.load(artifacts.root)
    module = tf.saved_model.load(str(small_artifacts / "models/rank/din"))
    serve = module.signatures["serving_default"]
    last_n = artifacts.item_ids[:7]
    profile = ["gender=F", "region=nowhere"]  # one known token at most, one unknown
    candidates = [*artifacts.item_ids[20:60], "no-such-item"]
    strings = serve(
        userExamples=tf.constant([_example({"last_n": last_n, "profile": profile})]),
        userContextExamples=tf.constant([b""]),
        itemExamples=tf.constant([_example({"item_id": [i]}) for i in candidates]),
    )["scores"].numpy()
    rows = artifacts.rows(last_n)
    tokens = np.array([artifacts.profile_rows[t] for t in profile if t in artifacts.profile_rows], dtype=np.int32)
    fast = model.scores(rows, tokens, artifacts.rows(candidates))
    assert strings.shape == (len(candidates),)
    np.testing.assert_allclose(strings, fast, rtol=1e-5, atol=1e-5)
    assert np.std(fast) > 0  # a model that learnt something separates items


def test_rank_signature_handles_empty_history_and_unknown_items(small_artifacts):
    model = DinModel.load(small_artifacts)
    scores = model.scores(np.empty(0, np.int32), np.empty(0, np.int32), np.array([-1, 0, 1], np.int32))
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_flat_call_answers_exactly_as_the_signature(small_artifacts):
    model = DinModel.load(small_artifacts)
    assert model._flat is not None  # this TensorFlow exposes the flat call: the served path uses it
    rng = np.random.default_rng(3)
    items = len(RankArtifacts.load(small_artifacts).item_ids)
    for history_len, profile_len, candidates in ((0, 0, 1), (3, 1, 17), (10, 4, 200), (25, 2, 500)):
        history = rng.integers(-1, items, history_len).astype(np.int32)
        profile = rng.integers(0, 5, profile_len).astype(np.int32)
        rows = rng.integers(-1, items, candidates).astype(np.int32)
        fast = model.scores(history, profile, rows)
        assert fast.dtype == np.float32 and fast.shape == (candidates,)
        assert fast.tobytes() == model._signature_scores(history, profile, rows).tobytes()


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    source = generate(SyntheticConfig(users=60, items=90, seed=9, mean_interactions=12.0))
    split = leave_last_out(source)
    config = RankModelConfig(dim=8, fm_dim=4, history_len=6, negatives=8, epochs=1, batch_size=64)
    inputs = rank_inputs(source, item_popularity(split))
    examples = write_example_files(tmp_path_factory.mktemp("examples"), split.train.user, split.train.item, 6)
    _din, lr, fm, losses = train_rankers(inputs, examples, source.n_items, len(source.category_names), config)
    return inputs, lr, fm, losses, source


@pytest.mark.parametrize("kind", ["lr", "fm"])
def test_numpy_light_rankers_equal_their_training_graph(tiny_models, tmp_path, kind):
    import tensorflow as tf

    from dubbo_recsys.offline.rank_export import save_light

    inputs, lr, fm, losses, source = tiny_models
    assert all(np.isfinite(v).all() for v in losses.values())
    save_light(lr, fm, tmp_path / "models/rank/light")
    light = LightModel.load(tmp_path, kind)
    trained = lr if kind == "lr" else fm
    rng = np.random.default_rng(1)
    for user in rng.choice(source.n_users, 5, replace=False).tolist():
        history_rows = rng.choice(source.n_items, 4, replace=False).astype(np.int32)
        items = np.concatenate([rng.choice(source.n_items, 12, replace=False), [-1]]).astype(np.int32)
        profile_index = inputs.user_profile[user]
        expected = trained.score(
            tf.constant((history_rows + OFFSET)[None, :]),
            tf.constant(profile_index[None, :]),
            tf.constant(np.where(items < 0, 1, items + OFFSET)[None, :]),
        ).numpy()[0]
        got = light.scores(history_rows, profile_index - OFFSET, items)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
