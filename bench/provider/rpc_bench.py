"""RPC throughput of ``dubbo-recsys serve`` against a framing-only reference server.

Both servers run as subprocesses on 127.0.0.1 with uvloop and one worker. The load
generator pipelines pre-encoded request frames over a few connections (a window of
calls in flight per connection) and only splits the answers into frames, so it
costs little next to the server. The reference answers each frame with a fixed,
pre-encoded response: it is the ceiling of an asyncio server on this machine, and
``ratio`` says how much of it the real decode -> dispatch -> encode path keeps.
Latency: one connection, one call at a time, for half of ``--seconds``.

Bounded: each scenario runs ``--seconds`` (default 4) and at most ``--max-calls``.

    python bench/provider/rpc_bench.py [--seconds 4] [--connections 4] [--window 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from dubbo_recsys.interfaces.recommend import RecommendRequest  # noqa: E402 - after the sys.path set-up above
from dubbo_recsys.interfaces.seed import RecRequest  # noqa: E402 - after the sys.path set-up above
from dubbo_recsys.provider.body import encode_invocation  # noqa: E402 - after the sys.path set-up above
from dubbo_recsys.provider.dispatch import Invocation  # noqa: E402 - after the sys.path set-up above
from dubbo_recsys.provider.protocol import NEED_DATA, FrameReader, encode_request  # noqa: E402 - after the sys.path set-up above

LISTENING = re.compile(r"listening dubbo://127\.0\.0\.1:(\d+)")

REFERENCE = r"""
import asyncio, struct, sys, uvloop
from dubbo_recsys.provider.protocol import FrameReader, NEED_DATA, RequestFrame, encode_response
BODY = bytes.fromhex(sys.argv[1])
class P(asyncio.Protocol):
    def connection_made(self, t): self.t = t; self.r = FrameReader()
    def data_received(self, data):
        self.r.receive_data(data)
        out = []
        while (e := self.r.next_event()) is not NEED_DATA:
            if type(e) is RequestFrame: out.append(encode_response(e.request_id, 20, BODY))
        self.t.write(b"".join(out))
async def main():
    server = await asyncio.get_running_loop().create_server(P, "127.0.0.1", 0)
    print(f"listening dubbo://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()
uvloop.install(); asyncio.run(main())
"""


def scenarios() -> dict[str, Invocation]:
    att = {"path": "", "interface": "", "timeout": "3000"}
    return {
        "echo": Invocation(
            "2.0.2", "com.loki.www.infer.DubbogoInferService", "0.0.0", "$echo", "Ljava/lang/Object;", ("hello",), att
        ),
        "recommend": Invocation(
            "2.0.2",
            "org.dubborecsys.api.RecommendService",
            "1.0.0",
            "recommend",
            "Lorg/dubborecsys/api/RecommendRequest;",
            (RecommendRequest(userId="u42", scene="home", count=10, exposureList=["item-0003", "item-0007"]),),
            att,
        ),
        "seed": Invocation(
            "2.0.2",
            "com.loki.www.infer.DubbogoInferService",
            "0.0.0",
            "RecommenderInfer",
            "Lcom/loki/www/infer/RecRequest;",
            (RecRequest(userId="u42", dataId="home"),),
            att,
        ),
    }


def start(argv: list[str]) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = LISTENING.search(line)
        if match:
            return proc, int(match.group(1))
    raise RuntimeError(f"{argv} did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def load(
    port: int, body: bytes, seconds: float, connections: int, window: int, max_calls: int
) -> tuple[int, float]:
    done = 0
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        frames = FrameReader()
        next_id = 0

        def send(n: int) -> None:
            nonlocal next_id
            writer.write(b"".join(encode_request(next_id + i, body) for i in range(n)))
            next_id += n

        send(window)
        outstanding = window
        while outstanding:
            chunk = await reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("server closed the connection")
            frames.receive_data(chunk)
            answered = 0
            while (event := frames.next_event()) is not NEED_DATA:
                if event.status != 20:
                    raise RuntimeError(f"status {event.status}")
                answered += 1
            done += answered
            outstanding -= answered
            if time.perf_counter() < deadline and done < max_calls and answered:
                send(answered)
                outstanding += answered
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return done, time.perf_counter() - started


async def latency(port: int, body: bytes, seconds: float, max_calls: int) -> list[float]:
    """One connection, one call at a time: round-trip times in microseconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frames = FrameReader()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    request_id = 0
    while time.perf_counter() < deadline and len(samples) < max_calls:
        request_id += 1
        started = time.perf_counter()
        writer.write(encode_request(request_id, body))
        while frames.next_event() is NEED_DATA:
            frames.receive_data(await reader.read(1 << 16))
        samples.append((time.perf_counter() - started) * 1e6)
    writer.close()
    samples.sort()
    return samples


def pct(samples: list[float], q: float) -> float:
    return samples[min(len(samples) - 1, int(q * len(samples)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--max-calls", type=int, default=2_000_000)
    args = parser.parse_args()
    import uvloop

    ours, port = start(
        [
            sys.executable,
            "-m",
            "dubbo_recsys.provider.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "1",
        ]
    )
    rows = []
    try:
        for name, invocation in scenarios().items():
            body = encode_invocation(invocation)
            calls, elapsed = uvloop.run(load(port, body, args.seconds, args.connections, args.window, args.max_calls))
            # the reference answers with the same response bytes ours produced for this request
            ref_response = uvloop.run(_one_response(port, body))
            lat = uvloop.run(latency(port, body, args.seconds / 2, 20000))
            ref, ref_port = start([sys.executable, "-c", REFERENCE, ref_response.hex()])
            try:
                ref_calls, ref_elapsed = uvloop.run(
                    load(ref_port, body, args.seconds, args.connections, args.window, args.max_calls)
                )
                ref_lat = uvloop.run(latency(ref_port, body, args.seconds / 2, 20000))
            finally:
                stop(ref)
            rows.append((name, calls / elapsed, ref_calls / ref_elapsed, lat, ref_lat))
    finally:
        stop(ours)
    print(f"connections={args.connections} window={args.window} seconds={args.seconds} (per scenario)")
    print(
        f"{'scenario':<10} {'ours calls/s':>13} {'reference calls/s':>18} {'ratio':>6}"
        f" {'ours p50/p99 us':>16} {'ref p50/p99 us':>15}"
    )
    for name, ours_rate, ref_rate, lat, ref_lat in rows:
        print(
            f"{name:<10} {ours_rate:>13,.0f} {ref_rate:>18,.0f} {ours_rate / ref_rate:>6.2f}"
            f" {pct(lat, 0.5):>8.0f}/{pct(lat, 0.99):<7.0f} {pct(ref_lat, 0.5):>7.0f}/{pct(ref_lat, 0.99):<7.0f}"
        )
    return 0


async def _one_response(port: int, body: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(encode_request(1, body))
    frames = FrameReader()
    while (event := frames.next_event()) is NEED_DATA:
        frames.receive_data(await reader.read(1 << 16))
    writer.close()
    return event.body


if __name__ == "__main__":
    sys.exit(main())
