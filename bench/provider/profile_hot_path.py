"""Profile one request's hot path in-process: decode body, dispatch, encode response.

No sockets: ``Exchange.answer`` is driven with a pre-framed request, so the profile
shows only our code and the codec. Bounded by ``--calls`` (default 20000).

    python bench/provider/profile_hot_path.py [--scenario recommend] [--calls 20000] [--top 25]
    python bench/provider/profile_hot_path.py --breakdown [--calls 20000]   # us per stage, every scenario
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rpc_bench import scenarios

from dubbo_recsys.provider.body import decode_invocation, encode_invocation, encode_result
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.exchange import Exchange
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.protocol import FrameReader, RequestFrame, encode_request, encode_response
from dubbo_recsys.provider.services import default_exports


def breakdown(exchange: Exchange, frame: RequestFrame, calls: int) -> dict[str, float]:
    """Microseconds per call spent in each stage of ``Exchange.answer``."""
    invocation = decode_invocation(frame.body)
    outcome = asyncio.run(exchange.dispatcher.dispatch(invocation))
    body = encode_result(outcome, True)

    async def dispatch_many() -> None:
        for _ in range(calls):
            await exchange.dispatcher.dispatch(invocation)

    stages: dict[str, float] = {}
    started = time.perf_counter()
    for _ in range(calls):
        decode_invocation(frame.body)
    stages["decode request body"] = time.perf_counter() - started
    started = time.perf_counter()
    asyncio.run(dispatch_many())
    stages["dispatch + handler"] = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(calls):
        encode_result(outcome, True)
    stages["encode response body"] = time.perf_counter() - started
    started = time.perf_counter()
    reader = FrameReader()
    for _ in range(calls):
        reader.receive_data(encode_request(1, frame.body))
        reader.next_event()
        encode_response(1, 20, body)
    stages["framing (both ways)"] = time.perf_counter() - started
    return {name: seconds / calls * 1e6 for name, seconds in stages.items()}


async def drive(exchange: Exchange, frame: RequestFrame, calls: int) -> None:
    for _ in range(calls):
        await exchange.answer(frame)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="recommend", choices=sorted(scenarios()))
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="time each stage instead of profiling")
    args = parser.parse_args()
    exchange = Exchange(Dispatcher(default_exports(PopularRecommender())), 8 << 20)
    frame = RequestFrame(1, 2, True, False, encode_invocation(scenarios()[args.scenario]))
    if args.breakdown:
        for scenario in sorted(scenarios()):
            frame = RequestFrame(1, 2, True, False, encode_invocation(scenarios()[scenario]))
            stages = breakdown(exchange, frame, args.calls)
            total = sum(stages.values())
            print(f"{scenario}: {total:.1f} us/call = " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
        return 0
    started = time.perf_counter()
    if args.no_profile:
        asyncio.run(drive(exchange, frame, args.calls))
    else:
        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, drive(exchange, frame, args.calls))
    elapsed = time.perf_counter() - started
    print(
        f"{args.scenario}: {args.calls} calls in {elapsed:.2f} s = {args.calls / elapsed:,.0f} calls/s"
        f"{' (under cProfile)' if not args.no_profile else ''}"
    )
    if not args.no_profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
