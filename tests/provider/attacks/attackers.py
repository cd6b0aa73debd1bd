"""Hostile dubbo:// callers, each run in a process of its own for a bounded time.

``python -m tests.provider.attacks.attackers NAME --port P --seconds S`` runs one
attack and prints a JSON line of what it did. The attacks (``ATTACKS``):

- ``never-reading``: 40 connections pipeline ``recommend`` calls and never read;
- ``greedy``: one connection pipelines as fast as it can and reads (discards) the answers;
- ``slowloris``: 500 connections each trickle one frame a byte at a time;
- ``idle``: 2,000 connections that send nothing;
- ``new-names``: calls naming never-seen classes, fields, ``$invoke`` types, dubbo
  versions (5,005 digits among them) and descriptors, 64 KiB each;
- ``heartbeats``: 8 connections flooding heartbeats (and reading the answers);
- ``garbage``: bad magic, garbage and deeply nested bodies, reused request ids;
- ``oversize``: frames declaring more than the payload limit, bodies streamed, and
  8 MiB garbage bodies within it;
- ``large-calls``: well-formed calls of 2-7 MiB, read and answered: ``recommend`` with a
  million candidate ids (refused while read) and ``$echo`` of 300,000 strings;
- ``million-ids``: the issue's costly request alone: 2 connections pipelining ``recommend``
  calls with a million candidate ids each (the contract takes 1,000), reading the answers;
- ``ignore-readonly``: 8 connections each keeping 16 calls outstanding, which go on
  sending after READONLY until the server ends the stream (run it across a SIGTERM):
  reports how many answers came before and after READONLY, how each stream ended
  (a clean end, a reset, a truncated frame) and how many calls went unanswered.

Each keeps its own CPU use small where it can (frames are built once) so that the
good consumer measures the server, not the attacker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from dubbo_recsys.provider.protocol import DEFAULT_PAYLOAD_LIMIT
from tests.provider.attacks.frames import (
    echo_request,
    garbage_body_request,
    heartbeat,
    large_recommend_request,
    new_name_request,
    oversize_header,
    recommend_request,
)

Attack = Callable[[str, int, float], Awaitable[dict[str, Any]]]


async def _connect(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return sock


async def _until(deadline: float, coro: Awaitable[Any]) -> None:
    with contextlib.suppress(TimeoutError, OSError):
        await asyncio.wait_for(coro, max(0.0, deadline - time.monotonic()))


async def _drain(sock: socket.socket, stats: dict[str, Any]) -> None:
    """Read and discard until the peer closes."""
    loop = asyncio.get_running_loop()
    while True:
        chunk = await loop.sock_recv(sock, 1 << 18)
        if not chunk:
            stats["closed_by_server"] = stats.get("closed_by_server", 0) + 1
            return
        stats["received"] = stats.get("received", 0) + len(chunk)


async def _send_while_read(host: str, port: int, stats: dict[str, Any], frames: Iterator[bytes]) -> None:
    """One connection sending ``frames`` as fast as it can, reading and discarding what comes back, until
    the server closes it (or the caller's deadline cancels it)."""
    loop = asyncio.get_running_loop()
    sock = await _connect(host, port)
    reader = asyncio.ensure_future(_drain(sock, stats))
    try:
        for frame in frames:
            if reader.done():
                break
            await loop.sock_sendall(sock, frame)
            stats["sent"] += len(frame)
    finally:
        reader.cancel()
        sock.close()


async def never_reading(host: str, port: int, seconds: float, connections: int = 40) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    batch = b"".join(recommend_request(i, f"nr-{i}") for i in range(64))
    stats: dict[str, Any] = {"sent": 0}
    deadline = time.monotonic() + seconds

    async def one() -> None:
        sock = await _connect(host, port)
        try:
            while True:
                await loop.sock_sendall(sock, batch)
                stats["sent"] += len(batch)
        finally:
            sock.close()

    await asyncio.gather(*(_until(deadline, one()) for _ in range(connections)))
    return stats


async def greedy(host: str, port: int, seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    batch = b"".join(echo_request(i, i) for i in range(256))
    stats: dict[str, Any] = {"sent": 0, "received": 0}
    deadline = time.monotonic() + seconds
    sock = await _connect(host, port)

    async def send() -> None:
        while True:
            await loop.sock_sendall(sock, batch)
            stats["sent"] += len(batch)

    try:
        await asyncio.gather(_until(deadline, send()), _until(deadline, _drain(sock, stats)))
    finally:
        sock.close()
    return stats


async def slowloris(host: str, port: int, seconds: float, connections: int = 500) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    frame = recommend_request(1, "slow")
    stats: dict[str, Any] = {"bytes": 0, "connected": 0}
    deadline = time.monotonic() + seconds

    async def one(index: int) -> None:
        sock = await _connect(host, port)
        stats["connected"] += 1
        try:
            await asyncio.sleep(index % 50 / 50)  # spread the trickles
            for byte in frame * 1000:
                await loop.sock_sendall(sock, bytes([byte]))
                stats["bytes"] += 1
                await asyncio.sleep(1.0)
        finally:
            sock.close()

    await asyncio.gather(*(_until(deadline, one(i)) for i in range(connections)))
    return stats


async def idle(host: str, port: int, seconds: float, connections: int = 2000) -> dict[str, Any]:
    stats: dict[str, Any] = {"connected": 0, "failed": 0}
    socks: list[socket.socket] = []
    deadline = time.monotonic() + seconds
    for _ in range(connections):
        try:
            socks.append(await _connect(host, port))
            stats["connected"] += 1
        except OSError:
            stats["failed"] += 1
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    for sock in socks:
        sock.close()
    return stats


async def new_names(host: str, port: int, seconds: float, size: int = 64 * 1024, rate: float = 50.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats: dict[str, Any] = {"requests": 0}
    deadline = time.monotonic() + seconds
    sock = await _connect(host, port)
    reader = asyncio.ensure_future(_drain(sock, stats))
    index = 0
    try:
        while time.monotonic() < deadline and not reader.done():
            started = time.monotonic()
            frames = new_name_request(index, size)
            await loop.sock_sendall(sock, b"".join(frames))
            stats["requests"] += len(frames)
            index += 1
            await asyncio.sleep(max(0.0, 1.0 / rate - (time.monotonic() - started)))
    finally:
        reader.cancel()
        sock.close()
    return stats


async def heartbeats(host: str, port: int, seconds: float, connections: int = 8) -> dict[str, Any]:
    batch = b"".join(heartbeat(i) for i in range(1024))
    stats: dict[str, Any] = {"sent": 0, "received": 0}
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(_until(deadline, _send_while_read(host, port, stats, itertools.repeat(batch))) for _ in range(connections))
    )
    return stats


def _nested(depth: int) -> bytes:
    return b"\x57" * depth + b"N" + b"Z" * depth  # untyped lists inside lists, never closed right


async def garbage(host: str, port: int, seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats: dict[str, Any] = {"connections": 0}
    deadline = time.monotonic() + seconds
    bodies = [os.urandom(200), b"\x91" * 100, _nested(10_000), b"S\xff\xff" + b"a" * 50, b""]
    while time.monotonic() < deadline:
        try:
            sock = await _connect(host, port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        stats["connections"] += 1
        try:
            framed = b"".join(garbage_body_request(7, body) for body in bodies)  # request id reused
            await loop.sock_sendall(sock, framed + echo_request(7, "same id") + os.urandom(64))  # then bad magic
            await _until(min(deadline, time.monotonic() + 1.0), _drain(sock, stats))
        except OSError:
            pass
        finally:
            sock.close()
    return stats


async def oversize(host: str, port: int, seconds: float, connections: int = 4) -> dict[str, Any]:
    chunk = os.urandom(1 << 16)
    big = garbage_body_request(9, os.urandom(DEFAULT_PAYLOAD_LIMIT))
    stats: dict[str, Any] = {"sent": 0}
    deadline = time.monotonic() + seconds
    length = 4 * DEFAULT_PAYLOAD_LIMIT

    def declared_too_long() -> Iterator[bytes]:  # headers over the limit, their bodies streamed after them
        while True:
            yield oversize_header(8, length)
            yield from itertools.repeat(chunk, length // len(chunk))

    def frames(index: int) -> Iterator[bytes]:
        return itertools.repeat(big) if index % 2 else declared_too_long()

    await asyncio.gather(
        *(_until(deadline, _send_while_read(host, port, stats, frames(i))) for i in range(connections))
    )
    return stats


async def large_calls(host: str, port: int, seconds: float, connections: int = 2) -> dict[str, Any]:
    calls = [large_recommend_request(11, 1_000_000), echo_request(12, [f"s{i}" for i in range(300_000)])]
    stats: dict[str, Any] = {"sent": 0, "received": 0}
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(
            _until(deadline, _send_while_read(host, port, stats, itertools.cycle(calls[i % 2 :] + calls[: i % 2])))
            for i in range(connections)
        )
    )
    return stats


async def million_ids(host: str, port: int, seconds: float, connections: int = 2) -> dict[str, Any]:
    call = large_recommend_request(13, 1_000_000)
    stats: dict[str, Any] = {"sent": 0, "received": 0}
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(_until(deadline, _send_while_read(host, port, stats, itertools.repeat(call))) for _ in range(connections))
    )
    return stats


async def ignore_readonly(host: str, port: int, seconds: float, connections: int = 8) -> dict[str, Any]:
    from dubbo_recsys.provider.protocol import NEED_DATA, ConnectionClosed, FrameReader, RequestFrame, ResponseFrame

    stats: dict[str, Any] = {
        "sent": 0,
        "ok_before": 0,
        "ok_after": 0,
        "refused_after": 0,
        "other": 0,
        "clean_end": 0,
        "reset": 0,
        "truncated": 0,
        "unanswered": 0,
    }

    async def one(index: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        frames = FrameReader()
        outstanding: set[int] = set()
        readonly = False
        next_id = index << 32
        window = asyncio.Semaphore(16)

        async def send() -> None:
            nonlocal next_id
            while not writer.is_closing():
                await window.acquire()
                next_id += 1
                outstanding.add(next_id)
                writer.write(echo_request(next_id, next_id))
                stats["sent"] += 1
                await asyncio.sleep(0.002)

        sender = asyncio.ensure_future(send())
        try:
            while True:
                event = frames.next_event()
                if event is NEED_DATA:
                    try:
                        frames.receive_data(await reader.read(1 << 16))
                    except ConnectionResetError:
                        stats["reset"] += 1
                        return
                    continue
                if isinstance(event, ConnectionClosed):
                    stats["truncated" if event.truncated else "clean_end"] += 1
                    return
                if isinstance(event, RequestFrame) and event.is_readonly:
                    readonly = True  # noted, and ignored
                elif isinstance(event, ResponseFrame) and event.request_id in outstanding:
                    outstanding.discard(event.request_id)
                    window.release()
                    if event.status == 20:
                        stats["ok_after" if readonly else "ok_before"] += 1
                    elif event.status == 80:
                        stats["refused_after"] += 1
                    else:
                        stats["other"] += 1
        finally:
            sender.cancel()
            stats["unanswered"] += len(outstanding)
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(connections))), seconds)
    return stats


ATTACKS: dict[str, Attack] = {
    "never-reading": never_reading,
    "greedy": greedy,
    "slowloris": slowloris,
    "idle": idle,
    "new-names": new_names,
    "heartbeats": heartbeats,
    "garbage": garbage,
    "oversize": oversize,
    "large-calls": large_calls,
    "million-ids": million_ids,
    "ignore-readonly": ignore_readonly,
}
# the attacks measured beside the good consumer, in this order (ignore-readonly is run across a SIGTERM)
BESIDE_A_CONSUMER = [name for name in ATTACKS if name != "ignore-readonly"]


async def _run(attack: Attack, host: str, port: int, seconds: float) -> dict[str, Any]:
    return await attack(host, port, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("attack", choices=sorted(ATTACKS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    started = time.monotonic()
    stats: dict[str, Any] = asyncio.run(_run(ATTACKS[args.attack], args.host, args.port, args.seconds))
    stats["attack"], stats["seconds"] = args.attack, round(time.monotonic() - started, 2)
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
