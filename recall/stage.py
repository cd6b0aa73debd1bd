"""The pipeline's recall step: ``Recall`` behind the ``pipeline.Stage`` interface.

Registered in the stage catalog as ``recall(multi_channel)``; the seed's recall
implementations ``dssmRecall`` and ``fmRecall`` resolve to it too, since the
multi-channel recall includes the two-tower channel and a light scene differs
only by its smaller ``recallNum``. A scene config
builds it with ``build_stage(StageKind.RECALL, "multi_channel", resources,
{"size": 1000})``; ``resources.recall`` must be a loaded ``Recall`` (one per
process: the artifacts are shared by every scene). ``size`` (the seed's
``recallNum``, also accepted under that name) is how many candidates go on to
pre-rank; it never drops below what the request asked for.

Per request it passes the user id, exposure list and context to
``Recall.merge`` and returns one ``pipeline.Candidate`` per item with its
fused score and the channels that recalled it (built straight from the
merger's arrays; the channel names of each provenance bit pattern are
computed once per process); channels the merger dropped
(late or failed) are noted on the query (``Query.notes``), so the response
says the answer is partial. A request carrying
``candidateIds`` skips recall: those items (deduplicated, in order) go on
as they are, which is what the seed's rank-only mode asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import ConfigError, Stage
from dubbo_recsys.recall.facade import Recall
from dubbo_recsys.recall.merger import MergeResult

REQUEST_CHANNEL = "request"  # provenance of items the caller listed itself


class MultiChannelRecall(Stage, kind=StageKind.RECALL, names=("multi_channel", "dssmRecall", "fmRecall")):
    def __init__(self, recall: Recall, size: int = 1000) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= recall.config.max_k:
            raise ConfigError(f"recall size must be an int in 1..{recall.config.max_k}, got {size!r}")
        self.recall = recall
        self.size = size

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> MultiChannelRecall:
        recall = getattr(resources, "recall", None)
        if not isinstance(recall, Recall):
            raise ConfigError("the multi_channel recall stage needs resources.recall, a loaded recall.Recall")
        unknown = set(params) - {"size", "recallNum"}
        if unknown:
            raise ConfigError(f"multi_channel recall: unknown parameters {sorted(unknown)}")
        return cls(recall, params.get("size", params.get("recallNum", 1000)))

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        request = query.request
        if request.candidateIds:
            listed = dict.fromkeys(str(item) for item in request.candidateIds)
            return [Candidate(item_id=item, channels=(REQUEST_CHANNEL,)) for item in listed]
        merged = await self.recall.merge(
            request.userId,
            max(self.size, query.wanted),
            exposure=sorted(query.exposure),
            context=dict(request.context or {}),
            user=query.user,  # already fetched by the user hydration step, when the scene has one
        )
        for kind, reason in merged.dropped.items():  # the answer is partial: say so in the response
            query.notes.append(f"recall channel {kind.value} dropped: {reason}")
        name, names = self.name, _NAMES
        out = []
        for item_id, score, bits in zip(
            self.recall.catalog.ids_of(merged.rows), merged.scores.tolist(), merged.sources.tolist(), strict=True
        ):
            channels = names.get(bits)
            if channels is None:
                channels = names[bits] = tuple(kind.value for kind in MergeResult.channels_of(bits))
            out.append(Candidate(item_id, score, channels, None, {name: score}))
        return out


_NAMES: dict[int, tuple[str, ...]] = {}  # provenance bits -> channel names
