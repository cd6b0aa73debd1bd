"""The refresh's rank half: fine-tune a version's DIN (and LR/FM) warm, and refit its fusion weights.

``offline.refresh`` fine-tunes the two-tower on the interactions that arrived as events; the rank
stage's models were trained by the base build on the base's log and towers, so a refresh that left
them alone could not reach the full build (``bench/realtime/RESULTS.md``). This module reuses the
build's code for both:

- **Rankers**: ``offline.rank_model.train_rankers`` (the build's loop, same batches, negatives and
  logQ correction) on the refresh's example files (the new interactions and their replay sample),
  warm-started from the base's ``models/rank`` (``offline.rank_export.load_ranker_weights``), then
  exported as the build exports them. Popularity (the models' popularity bucket and the sampler's q)
  is counted over every trained interaction, the base's and the new ones, as a build of the merged
  log would count it.
- **Fusion**: the build fits the weights on a validation build that holds out each user's last
  training interaction and retrains every model without it (``offline.rank_fusion``). The refresh
  does the same over its own data: a *validation refresh* (towers and rankers fine-tuned without
  each user's newest new interaction) is served with the realtime state that interaction's user had
  just before it (the other new items in front of lastN, in the exposure list), and the conditional
  logit is fitted over the candidates of the users whose held-out item was recalled
  (``collect_groups`` and ``fit_fusion``, the build's). Fewer than ``fit_fusion``'s minimum of
  groups: the base's weights stay.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from dubbo_recsys.offline.errors import ArtifactError

__all__ = ["RANK_META", "fine_tune_rankers", "held_out_newest", "refit_fusion"]

RANK_META = "models/rank/meta.json"
LAST_N = 50  # the realtime lastN a provider merges in front of the build's (RealtimeReader's default)


def fine_tune_rankers(
    base: Path, out: Path, tables: Any, examples: Any, popularity: np.ndarray, params: Mapping[str, Any], config: Any
) -> dict[str, list[float]]:
    """Warm-start the base's rankers, train them on ``examples`` and write ``models/rank/{din,light,meta.json}``
    into ``out`` (whose ``ids/items.txt`` must exist). ``tables`` holds the users' profile and the items'
    category indexes in the base ranker's vocabularies (``refresh._tower_inputs``); ``popularity`` the
    interaction count per item row; ``config`` the ``RefreshConfig``. Returns the loss per epoch."""
    import tensorflow as tf

    from dubbo_recsys.offline.rank_export import export_din, load_ranker_weights, save_light
    from dubbo_recsys.offline.rank_model import RankInputs, pop_bucket, train_rankers
    from dubbo_recsys.offline.rank_steps import RankModelConfig

    meta = json.loads((base / RANK_META).read_text(encoding="utf-8"))
    rank = dataclasses.replace(
        RankModelConfig(**params.get("rank_model", {})),
        seed=config.seed,
        epochs=config.rank_epochs,
        learning_rate=config.learning_rate,
    )
    inputs = RankInputs(
        profile_vocab=meta["profile_vocab"],
        user_profile=tables.user_profile,
        item_categories=tables.item_categories,
        item_pop_bucket=pop_bucket(popularity),
        item_count=popularity,
    )

    def warm_start(din: Any, lr: Any, fm: Any) -> None:
        try:
            load_ranker_weights(din, lr, fm, base / "models/rank")
        except (ValueError, KeyError, OSError, tf.errors.OpError) as exc:
            raise ArtifactError(f"refresh: {base.name}'s rankers do not load into this model: {exc}") from exc

    n_items, n_categories = len(popularity), len(meta["categories"])
    din, lr, fm, losses = train_rankers(inputs, examples, n_items, n_categories, rank, warm_start=warm_start)
    root = out / "models/rank"
    export_din(din, root / "din", out / "ids/items.txt", inputs.profile_vocab, rank.history_len)
    save_light(lr, fm, root / "light")
    meta = {k: v for k, v in meta.items() if k != "quality"}  # the base's quick metric, not this model's
    meta |= {
        "epoch_loss": {name: [round(x, 4) for x in values] for name, values in losses.items()},
        "refreshed_from": base.name,
    }
    (root / "meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return losses


def held_out_newest(user: np.ndarray, item: np.ndarray) -> np.ndarray:
    """Bool per new interaction (``refresh.new_interactions``' order: each user's oldest first): the
    user's newest one, which the validation refresh holds out."""
    last = np.zeros(len(user), bool)
    _, first_from_end = np.unique(user[::-1], return_index=True)
    last[len(user) - 1 - first_from_end] = True
    return last


class _FixedRecent:
    """What ``RealtimeReader.recent_items`` answers for a given realtime state (newest first)."""

    last_n = LAST_N

    def __init__(self, recent: Mapping[str, Sequence[str]]) -> None:
        self.recent = recent

    async def recent_items(self, user_ids: Sequence[str]) -> list[list[str]]:
        return [list(self.recent.get(u, ()))[: self.last_n] for u in user_ids]


def refit_fusion(
    validation: Path,
    recent: Mapping[str, Sequence[str]],
    held_user: np.ndarray,
    held_item: np.ndarray,
    kept: Mapping[int, Sequence[int]],
) -> Any:
    """The ``FusionModel`` fitted on the validation refresh in ``validation`` (a complete version
    directory), or ``None`` with too few users whose held-out item was recalled.

    ``recent`` is the realtime lastN (newest first) the refresh read; each user is served it without
    their held-out item (``held_user``/``held_item`` rows), with ``kept`` (user row -> the new item rows
    the validation refresh trained on) in the exposure list besides their training items."""
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.features.realtime import RealtimeFeatureStore, RealtimeReader
    from dubbo_recsys.offline.rank_fusion import collect_groups, fit_fusion
    from dubbo_recsys.recall.artifacts import ArtifactDir

    dirs = ArtifactDir(validation)
    user_ids, item_ids = dirs.user_ids(), dirs.item_ids()
    held = {user_ids[u]: item_ids[i] for u, i in zip(held_user.tolist(), held_item.tolist(), strict=True)}
    before = {user: [i for i in items if i != held.get(user)] for user, items in recent.items()}
    reader = cast(RealtimeReader, _FixedRecent(before))  # a fixed state, read like the consumer's
    store = RealtimeFeatureStore(EmbeddedFeatureStore.from_artifacts(validation), reader)
    pairs = list(zip(held_user.tolist(), held_item.tolist(), strict=True))
    groups, stats = asyncio.run(collect_groups(validation, store=store, pairs=pairs, also_seen=kept))
    model = fit_fusion(groups, stats, len(pairs))
    if model is not None:
        model.provenance["chosen_on"] = (  # fit_fusion gives a plain dict
            f"refresh validation ({len(pairs)} users' newest new interaction held out, the towers and rankers "
            "fine-tuned without it); conditional logit over the served funnel's candidates of the "
            f"{len(groups)} users whose item was among them, each served the realtime lastN they had before it"
        )
    return model
