"""A Python provider that also exports a service whose every call fails.

``python -m tests.java_sample.failing_provider [--port N]`` serves what
``dubbo-recsys serve`` serves, through the same ``provider.server.Server``,
plus ``org.dubborecsys.api.RecommendService:1.0.0`` under group ``failing``, whose
``recommend`` raises ``java.lang.RuntimeException("failure #N")`` with N counting its calls.

Why: the Java consumer tests must see an application exception reach Java as an
exception and must prove Dubbo did not retry it; the numbers let them count how
often the provider really ran. ``dubbo-recsys serve`` has no method that raises, by
design (bad input is a 4xx code), so the failure lives here, in the tests. The Java
reference provider (bench/rpc/java) exports the same failing group.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.serve import run_until_signalled
from dubbo_recsys.provider.server import Server
from dubbo_recsys.provider.services import RecommendService, default_services
from hessian2 import JavaException

FAILING_GROUP = "failing"


class FailingRecommendService(RecommendService, group=FAILING_GROUP):
    """``recommend`` always raises; the message carries the call's number (1, 2, ...)."""

    def __init__(self) -> None:
        self.calls = 0

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        self.calls += 1
        raise JavaException(f"failure #{self.calls}")  # java.lang.RuntimeException


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="failing_provider", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    args = parser.parse_args(argv)
    services = [*default_services(PopularRecommender()), FailingRecommendService()]
    return run_until_signalled(Server(services, ServerConfig(host="127.0.0.1", port=args.port)))


if __name__ == "__main__":
    sys.exit(main())
