"""Subprocess entry for the drain tests: the default services plus the Probe, on a free port."""

from __future__ import annotations

import sys

from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.serve import run_until_signalled
from dubbo_recsys.provider.server import Server
from dubbo_recsys.provider.services import default_services
from tests.provider.probe import Probe

if __name__ == "__main__":
    drain = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    config = ServerConfig(host="127.0.0.1", port=0, drain_timeout=drain)
    sys.exit(run_until_signalled(Server([*default_services(PopularRecommender()), Probe()], config)))
