"""The gate on real builds: each deliberately broken build of ML-100K is refused, every time, nothing served from it.

The broken builds are copies of the CI's ML-100K build with one thing wrong (``tests.rollout.versions``):
a truncated Faiss index (its manifest stale, or rewritten to match), NaN in the item vectors, inf in a
light ranker's weights, NaN in a DIN weight (the SavedModel saved again), a DIN model whose ``rank``
signature takes other inputs, and a build whose offline metric collapsed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.base import ItemFeatures
from dubbo_recsys.interfaces.artifacts import MANIFEST, version_dir
from dubbo_recsys.provider.rollout import gate
from dubbo_recsys.provider.rollout.config import GateConfig
from dubbo_recsys.provider.rollout.errors import VersionRefused
from dubbo_recsys.provider.rollout.pin import Pin
from dubbo_recsys.provider.rollout.pins import write_pin
from tests.rollout import versions as v
from tests.rollout.conftest import one_version, rollout_app

FUSED = "rank_fusion_validation_fused_ndcg@10"
BROKEN: dict[str, tuple[dict[str, Any], str]] = {  # name -> (how to derive it, the check that must refuse it)
    "truncated index, stale manifest": ({"manifest_after": v.truncate_index}, "checksum"),
    "truncated index, manifest rewritten": ({"change": v.truncate_index}, "index"),
    "NaN item vectors": ({"change": v.nan_in_embeddings}, "finite"),
    "inf light ranker weights": ({"change": v.nan_in_light_weights}, "finite"),
    "NaN DIN weight": ({"change": v.nan_in_din_variables}, "finite"),
    "wrong DIN signature": ({"change": v.wrong_din_signature}, "signature"),
    "collapsed metric": ({"metrics": {FUSED: 0.01}}, "metric"),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, ml100k: Path) -> dict[str, Any]:
    """An artifact root: a good version, then each broken one (newer, so the newest is always broken)."""
    directory = tmp_path_factory.mktemp("gate-root")
    built = {"good": v.derive(ml100k, directory)}
    for name, (how, _check) in BROKEN.items():
        built[name] = v.derive(ml100k, directory, **how)
    return {"dir": directory, "ids": built}


def refusal(root: dict[str, Any], name: str) -> VersionRefused:
    directory, ids = root["dir"], root["ids"]
    good = version_dir(directory, ids["good"])
    serving = gate.check_files(good, ids["good"])
    try:
        manifest = gate.check_files(version_dir(directory, ids[name]), ids[name], good)
        gate.check_metrics(manifest["metrics"], serving["metrics"], GateConfig())
    except VersionRefused as refused:
        return refused
    pytest.fail(f"{name} passed the gate")


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_broken_build_is_refused_by_its_check(root: dict[str, Any], name: str) -> None:
    refused = refusal(root, name)
    assert refused.check == BROKEN[name][1], refused.reason
    assert refused.reason  # says what: file, variable, signature or metric


def test_the_good_copy_passes_every_check(root: dict[str, Any]) -> None:
    good = version_dir(root["dir"], root["ids"]["good"])
    manifest = gate.check_files(good, root["ids"]["good"], good)
    gate.check_metrics(manifest["metrics"], manifest["metrics"], GateConfig())


def test_the_margin_decides_and_missing_metrics_or_parts_are_refused(root: dict[str, Any], ml100k: Path) -> None:
    serving = {FUSED: 0.13, "two_tower_u2i_hr@50": 0.48}
    gate.check_metrics({FUSED: 0.118, "two_tower_u2i_hr@50": 0.48}, serving, GateConfig(margin=0.10))  # -9%
    with pytest.raises(VersionRefused, match=r"fell to 0\.1160"):
        gate.check_metrics({FUSED: 0.116, "two_tower_u2i_hr@50": 0.48}, serving, GateConfig(margin=0.10))
    with pytest.raises(VersionRefused, match="is missing"):
        gate.check_metrics({"two_tower_u2i_hr@50": 0.48}, serving, GateConfig())
    with pytest.raises(VersionRefused, match="not a finite number"):
        gate.check_metrics({FUSED: float("nan")}, None, GateConfig())
    gate.check_metrics({FUSED: 0.01}, None, GateConfig())  # nothing serves yet: nothing to compare with

    directory = root["dir"]
    no_din = v.derive(ml100k, directory, lambda d: shutil.rmtree(d / "models/rank/din"))
    with pytest.raises(VersionRefused, match="no DIN ranker"):
        gate.check_files(version_dir(directory, no_din), no_din, version_dir(directory, root["ids"]["good"]))

    def add_a_file(built: Path) -> None:
        (built / "models/extra.bin").write_bytes(b"x")

    extra = v.derive(ml100k, directory, manifest_after=add_a_file)
    with pytest.raises(VersionRefused, match=r"not in the manifest: models/extra\.bin"):
        gate.check_files(version_dir(directory, extra), extra)
    with pytest.raises(VersionRefused, match="holds the manifest of version"):
        gate.check_files(version_dir(directory, extra), root["ids"]["good"])


@pytest.mark.asyncio
async def test_a_serving_provider_refuses_each_broken_build_every_time(root: dict[str, Any], opened: list) -> None:
    """Nothing is served from a broken build: pinned (twice) or newest, the good version keeps answering."""
    directory, ids = root["dir"], root["ids"]
    good = ids["good"]
    await write_pin("none", directory, "", "", Pin("").publish(good))
    app = rollout_app(directory, poll_seconds=0.1)
    opened.append(app)
    readded: list[str] = []

    def readd_live_items(version: Any) -> None:  # the realtime path's re-add, before the version serves
        readded.extend(version.resources.recall.add_items([ItemFeatures("live-item-1", category="Comedy")]))

    app.after_load.append(readd_live_items)
    await app.open()
    assert app.serving.id == good and readded == ["live-item-1"]
    assert app.serving.resources.recall.catalog.row_of("live-item-1") is not None
    state = app.rollout.state
    for attempt in (1, 2):
        for name, (_how, check) in BROKEN.items():
            pinned = Pin(good).publish(ids[name], note=f"attempt {attempt}")
            await write_pin("none", directory, "", "", pinned)
            expected = _expected(attempt, name)
            await _until(lambda check=check, expected=expected: state.refusals.get(check, 0) >= expected, 60)
            assert state.last_refused == ids[name] and state.last_refusal_check == check
            assert app.serving.id == good
            answer = await app.recommend(_request())
            assert answer.code == 200 and one_version(answer.debugInfo) == good
    assert sum(state.refusals.values()) == 2 * len(BROKEN) and state.swaps == 0
    assert readded == ["live-item-1"]  # every broken build was refused before it was even loaded
    (directory / "pin.json").unlink()  # no pin: the newest version is broken, the good one keeps serving
    await asyncio.sleep(1.0)
    assert app.serving.id == good and state.swaps == 0


def _expected(attempt: int, name: str) -> int:
    """Refusals of ``name``'s check expected after ``attempt`` rounds (several builds share a check)."""
    names = list(BROKEN)
    check = BROKEN[name][1]
    same = [n for n in names if BROKEN[n][1] == check]
    return (attempt - 1) * len(same) + same.index(name) + 1


def _request() -> Any:
    from dubbo_recsys.interfaces.recommend import RecommendRequest

    return RecommendRequest(userId="196", count=10, debug=True)


async def _until(check: Any, seconds: float) -> None:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > seconds:
            pytest.fail(f"not within {seconds} s")
        await asyncio.sleep(0.05)


def test_the_manifest_must_name_its_own_directory(root: dict[str, Any], ml100k: Path, tmp_path: Path) -> None:
    source = version_dir(root["dir"], root["ids"]["good"])
    manifest = json.loads((source / MANIFEST).read_text())
    manifest.pop("content_hash")
    copy = tmp_path / root["ids"]["good"]
    shutil.copytree(source, copy)
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(VersionRefused, match="lacks content_hash"):
        gate.check_files(copy, copy.name)
