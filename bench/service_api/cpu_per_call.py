"""CPU time of one call through ``Exchange.answer`` (decode, dispatch, encode, framing), in-process.

    python -P bench/service_api/cpu_per_call.py [--repeats 60] [--calls 1000]

Run from the root of the tree to measure, by that tree's interpreter (``run_bench.py`` runs it
for this tree and the reference). Thread CPU time, not wall time, so other processes on the
shared cores disturb it far less than an RPC benchmark; prints one JSON line: scenario ->
[min, median] microseconds over ``--repeats`` batches of ``--calls`` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))
sys.path.insert(0, str(Path.cwd() / "bench" / "provider"))

from rpc_bench import scenarios

from dubbo_recsys.provider.body import encode_invocation
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.exchange import Exchange
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.protocol import RequestFrame
from dubbo_recsys.provider.services import default_exports


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    exchange = Exchange(Dispatcher(default_exports(PopularRecommender())), 8 << 20)
    result = {}
    for name in ("echo", "recommend", "seed"):
        frame = RequestFrame(1, 2, True, False, encode_invocation(scenarios()[name]))

        async def batch(frame: RequestFrame = frame) -> float:
            started = time.thread_time()
            for _ in range(args.calls):
                await exchange.answer(frame)
            return (time.thread_time() - started) / args.calls * 1e6

        runs = [asyncio.run(batch()) for _ in range(args.repeats)]
        result[name] = [min(runs), statistics.median(runs)]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
