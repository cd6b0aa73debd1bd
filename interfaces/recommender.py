"""The one seam between the protocols and the recommendation pipeline.

Dubbo services (ours and the seed's), the gRPC shim and the REST shim all hold a
``Recommender`` and call it with our own ``RecommendRequest``; the pipeline
implements it. Protocol adapters translate their wire shapes to and from these
dataclasses and never reach further in.
"""

from __future__ import annotations

from typing import Protocol

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse


class Recommender(Protocol):
    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        """Answer one request. Must not raise for bad input: answer with a 4xx ``code``."""
        ...
