"""Rank in process with the DIN SavedModel (``models/rank/din``, signature ``rank``).

The seed's ``ranking(din)``; ``deepfm`` is accepted as an alias so a seed
config runs unchanged (why DIN: ``offline.rank_model``). The SavedModel is
loaded once, when the stage is built (``DinModel.load`` is cached per
directory), and called with all candidates in one batch.

TensorFlow releases the GIL while it computes, so the call can run in a small
thread pool (``offload: true``, ``threads``) and leave the event loop free. By
default it runs inline: on 2 cores with 2 serve workers the pool's threads compete
with the other worker for the cores, and inline served 342-369 req/s against 252
pooled (``bench/funnel/RESULTS.md``); ``bench/rank/RESULTS.md`` has the per-call
timings for 200 candidates (p50 1.2 ms inline, 1.35 ms offloaded).

``DinModel.scores`` calls the signature's underlying graph function with flat
tensors (inputs in the signature's argument order, then its captured variables)
and reads the one output, skipping the signature's keyword binding and dict
packing. That path uses TensorFlow internals, so at load it is checked against
the signature on a probe batch and used only when it answers identically;
otherwise (another TensorFlow) the signature is called. How many threads
TensorFlow computes with is the process's business: ``dubbo-recsys serve
--tf-threads`` (1 by default; on 2 cores, one thread per op cut a 200-candidate
call from about 1.1 to 0.5 ms of CPU).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import (
    RankArtifactError,
    RankArtifacts,
    hydrate_user,
    param,
    request_user_vector,
    rescored,
    with_prior,
)
from dubbo_recsys.rank.fusion import FusionModel

__all__ = ["DinModel", "InProcessRanker"]


class DinModel:
    """The ``rank`` signature of a loaded SavedModel, as numpy in, numpy out."""

    def __init__(self, path: Path) -> None:
        if not (path / "saved_model.pb").is_file():
            raise RankArtifactError(f"{path}: no SavedModel (train it with `dubbo-recsys build`)")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        try:
            self._module = tf.saved_model.load(str(path))
            self._rank = self._module.signatures["rank"]
        except (KeyError, OSError, ValueError) as exc:
            raise RankArtifactError(f"{path}: cannot load the rank signature: {exc}") from exc
        self._tf = tf
        self._flat = self._flat_call()

    def _flat_call(self) -> Any:
        """``(call, argument names)`` of the signature's graph function called with flat tensors,
        or ``None`` when this TensorFlow does not expose it or it answers differently on a probe."""
        tf, signature = self._tf, self._rank
        try:
            names = tuple(signature._arg_keywords)
            captured = tuple(signature.captured_inputs)
            function = signature._inference_function
            outputs = signature.structured_outputs
            if sorted(names) != ["history", "items", "profile"] or list(outputs) != ["scores"]:
                return None
            if len(signature.inputs) != len(names) + len(captured):
                return None

            def call(**arrays: np.ndarray) -> np.ndarray:
                tensors = [tf.constant(arrays[name], tf.int32) for name in names]
                return function.call_flat(*tensors, *captured)[0].numpy()

            probe = {
                "history": np.array([3, 1, 4], np.int32),
                "profile": np.array([0, 2], np.int32),
                "items": np.array([5, -1, 9, 2, 6], np.int32),
            }
            if not np.array_equal(call(**probe), self._signature_scores(**probe)):
                return None
        except Exception:
            return None
        return call

    def _signature_scores(self, history: np.ndarray, profile: np.ndarray, items: np.ndarray) -> np.ndarray:
        tf = self._tf
        out = self._rank(
            history=tf.constant(history, tf.int32),
            profile=tf.constant(profile, tf.int32),
            items=tf.constant(items, tf.int32),
        )
        return out["scores"].numpy()

    _loaded: ClassVar[dict[str, DinModel]] = {}  # one model per directory, shared by every stage
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def load(cls, root: Path) -> DinModel:
        key = str((root / "models/rank/din").resolve())
        with cls._lock:
            model = cls._loaded.get(key)
            if model is None:
                model = cls._loaded[key] = cls(Path(key))
        return model

    @classmethod
    def forget(cls, root: Path) -> None:
        """Drop the cached model of ``root`` (an artifact version a provider released), so it can be freed."""
        with cls._lock:
            cls._loaded.pop(str((root / "models/rank/din").resolve()), None)

    def scores(self, history: np.ndarray, profile: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self._flat is not None:
            return self._flat(history=history, profile=profile, items=items)
        return self._signature_scores(history, profile, items)


class InProcessRanker(Stage, kind=StageKind.RANK, names=("din", "deepfm")):
    """params: ``keep`` (default: all), ``offload`` (default false), ``threads`` (default 2),
    ``fusion`` (default true), ``prior`` (default "multi_channel") and ``prior_weight`` (default 0).

    The score it ranks by: with ``fusion`` and a ``models/rank/fusion.json`` in the artifacts, the
    learned fusion of DIN's score with recall's fused score and rank, the two-tower score, item
    popularity and item-CF affinity (``rank.fusion``; weights fitted at build time on a validation
    build that never saw the test interactions). Otherwise DIN's score, plus ``prior_weight`` x
    log(the ``prior`` stage's score) when that weight is set (``rank.base.with_prior``). On ML-100K
    (``dubbo-recsys eval-rank``, bench/rank/RESULTS.md) DIN alone reorders recall's list for the
    worse; the fusion is what the default scene serves and what eval-rank reports as the funnel."""

    def __init__(
        self,
        artifacts: RankArtifacts,
        model: DinModel,
        resources: Any = None,
        keep: int | None = None,
        executor: ThreadPoolExecutor | None = None,
        prior: str = "recall",
        prior_weight: float = 0.0,
        fusion: FusionModel | None = None,
    ) -> None:
        self.prior, self.prior_weight, self.fusion = prior, prior_weight, fusion
        self.artifacts = artifacts
        self.model = model
        self.resources = resources
        self.keep = keep
        self.executor = executor

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> InProcessRanker:
        artifacts = RankArtifacts.of(resources)
        keep = None if params.get("keep") is None else param(params, "keep", 0, int, 1, 100_000)
        offload, threads = param(params, "offload", False, bool), param(params, "threads", 2, int, 1, 64)
        prior = param(params, "prior", "multi_channel", str)
        weight = param(params, "prior_weight", 0.0, float, 0.0, 100.0)
        fusion = FusionModel.load(artifacts) if param(params, "fusion", True, bool) else None
        model = DinModel.load(artifacts.root)
        executor = ThreadPoolExecutor(threads, thread_name_prefix="din") if offload else None
        return cls(artifacts, model, resources, keep, executor, prior, weight, fusion)

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        history, profile = self.artifacts.encode_user(await hydrate_user(query, self.resources))
        items = self.artifacts.rows([c.item_id for c in candidates])
        if self.executor is None:
            scores = self.model.scores(history, profile, items)
        else:
            loop = asyncio.get_running_loop()
            scores = await loop.run_in_executor(self.executor, self.model.scores, history, profile, items)
        vector = await request_user_vector(query, self.resources, self.artifacts) if self.fusion else None
        scores = self.blend(query, candidates, scores, vector)
        return rescored(candidates, scores, self.name, self.keep)

    def blend(
        self, query: Query, candidates: list[Candidate], scores: np.ndarray, vector: np.ndarray | None = None
    ) -> np.ndarray:
        """DIN's scores -> the scores the stage ranks by (see the class docstring); ``vector`` is the
        request's two-tower user vector (``rank.base.request_user_vector``), ``None`` the build's."""
        if self.fusion is not None:
            return self.fusion.score(self.artifacts, query.request.userId, query.user, candidates, scores, vector)
        return with_prior(candidates, scores, self.prior, self.prior_weight)
