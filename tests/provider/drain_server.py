"""Subprocess entry for the drain tests: the default services plus the Probe, on a free port."""

from __future__ import annotations

import sys

from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.serve import serve_exports
from dubbo_recsys.provider.services import default_exports
from tests.provider.probe import probe_export

if __name__ == "__main__":
    export, _ = probe_export()
    drain = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    sys.exit(
        serve_exports(
            [*default_exports(PopularRecommender()), export],
            ServerConfig(host="127.0.0.1", port=0, drain_timeout=drain),
            loop_choice="auto",
        )
    )
