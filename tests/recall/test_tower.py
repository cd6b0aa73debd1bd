"""The exported user tower as a vector source: same vector as the model, and new users reach u2i through it.

Uses the real exporter (``offline.two_tower_export``) on a tiny untrained model
written into a copy of the fixture, so the string inputs recall builds are
checked against the index inputs the model was built on.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from dubbo_recsys.features.base import UserFeatures
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.recall import ChannelKind, ChannelPolicy, Recall, RecallConfig
from dubbo_recsys.recall.config import DEFAULT_POLICIES
from dubbo_recsys.recall.tower import UserTower
from tests.recall.fixtures import CATEGORIES, DIM

try:
    import tensorflow as tf
except ImportError:  # pragma: no cover - CI installs the data extra
    if os.environ.get("CI"):
        raise
    pytest.skip("the user tower needs TensorFlow (pip install -e .[data])", allow_module_level=True)

from dubbo_recsys.offline.two_tower import OFFSET, TwoTower
from dubbo_recsys.offline.two_tower_export import export_towers

pytestmark = pytest.mark.slow

FIELDS = ("taste", "gender")
VOCAB = sorted([f"taste={c}" for c in CATEGORIES] + ["gender=F", "gender=M"])
HISTORY_LEN = 5
# a TensorFlow call on a busy 2-core machine can take longer than the default 50 ms budget
PATIENT = RecallConfig(channels={**DEFAULT_POLICIES, ChannelKind.U2I: ChannelPolicy(quota=200, timeout=10.0)})


@pytest.fixture(scope="module")
def with_tower(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TwoTower]:
    root = tmp_path_factory.mktemp("tower") / "artifacts"
    shutil.copytree(artifacts, root)
    tf.random.set_seed(5)
    model = TwoTower(n_users=20, n_items=24, n_profile=len(VOCAB), n_categories=len(CATEGORIES), dim=DIM)
    out = root / "models/two_tower"
    out.mkdir(parents=True)
    export_towers(model, out, root / "ids/users.txt", root / "ids/items.txt", VOCAB, list(CATEGORIES), HISTORY_LEN)
    (out / "meta.json").write_text(json.dumps({"dim": DIM, "history_len": HISTORY_LEN, "profile_fields": list(FIELDS)}))
    return root, model


def test_tower_vector_equals_the_model_on_index_inputs(with_tower: tuple[Path, TwoTower]) -> None:
    root, model = with_tower
    tower = UserTower.load(root)
    assert tower is not None and tower.profile_fields == FIELDS
    got = tower.encode("u7", {"taste": "Comedy", "gender": "F", "region": "south"}, ["i9", "i8", "i7"])
    expected = model.user_vectors(
        tf.constant([OFFSET + 7]),
        tf.constant([[OFFSET + VOCAB.index("taste=Comedy"), OFFSET + VOCAB.index("gender=F")]]),
        tf.constant([[OFFSET + 9, OFFSET + 8, OFFSET + 7]]),
    ).numpy()[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert got.shape == (DIM,) and abs(float(np.linalg.norm(got)) - 1.0) < 1e-5


def test_no_tower_directory_means_no_tower(artifacts: Path) -> None:
    assert UserTower.load(artifacts) is None


@pytest.mark.asyncio
async def test_a_user_created_after_the_build_gets_u2i_through_the_tower(with_tower: tuple[Path, TwoTower]) -> None:
    root, _ = with_tower
    newbie = UserFeatures("newbie", {"taste": "Drama", "gender": "M"}, ("i12", "i13"))
    store = EmbeddedFeatureStore.from_features([newbie], [])
    recall = Recall.load(root, store, config=PATIENT)
    result = await recall.retrieve("newbie", 30)
    assert any(ChannelKind.U2I in item.channels for item in result.items)
    profile_only = EmbeddedFeatureStore.from_features([UserFeatures("fresh", {"taste": "Drama"})], [])
    fresh = await Recall.load(root, profile_only, config=PATIENT).retrieve("fresh", 30)
    assert any(ChannelKind.U2I in item.channels for item in fresh.items)  # the tower needs no history
