"""A Python provider whose answers mix two artifact versions: the negative control of the Java check.

``python -m tests.rollout.mixed_provider [--port N]`` serves ``RecommendService:1.0.0`` whose answers
(the popular list, ten items, code 200) carry debug info claiming version A for the answer and its
first stage but version B for its second stage, every other call; the other calls are consistent.
The load generator's ``--check-versions`` must count exactly the mixed half (tests/rollout/test_java_load.py):
a check that never finds anything proves nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.serve import run_until_signalled
from dubbo_recsys.provider.server import Server
from dubbo_recsys.provider.services import default_services

A, B = "20260101T030000Z-aaaaaaaaaaaa", "20260101T030100Z-bbbbbbbbbbbb"


class MixingRecommender:
    def __init__(self) -> None:
        self.popular = PopularRecommender()
        self.calls = 0

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        self.calls += 1
        answer = await self.popular.recommend(request)
        second = B if self.calls % 2 else A
        answer.debugInfo = {
            "artifacts": json.dumps({"version": A}),
            "recallSample": json.dumps({"kind": "hydrate", "version": A}),
            "multi_channel": json.dumps({"kind": "recall", "version": second, "top": []}),
        }
        return answer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mixed_provider", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    args = parser.parse_args(argv)
    server = Server(default_services(MixingRecommender()), ServerConfig(host="127.0.0.1", port=args.port))
    return run_until_signalled(server)


if __name__ == "__main__":
    sys.exit(main())
