"""The well-behaved consumer that runs beside every attack, in a process of its own.

Two kinds of traffic, each answer checked (a wrong or missing answer is an error):

- persistent: one connection, one call at a time (``recommend`` for 10 items, then
  ``$echo``, alternating), paced at ``rate`` calls per second;
- fresh: every ``fresh_interval`` seconds a new connection, one ``recommend``, close.

Latency is measured from just before the request is written to the parsed answer.
A call without an answer within ``limit`` seconds is an error; so is a refused or
reset connection. Run as ``python -m tests.provider.attacks.consumer --port P --seconds S``;
it prints one JSON document (``ConsumerReport.as_dict``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.provider.body import ResultFlag, decode_result
from dubbo_recsys.provider.protocol import NEED_DATA, ConnectionClosed, FrameReader, RequestFrame, ResponseFrame, Status
from tests.provider.attacks.frames import echo_request, recommend_request

EXPECTED_ITEMS = [f"item-{rank:04d}" for rank in range(1, 11)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Series:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        ms = [s * 1000 for s in self.latencies]
        return {
            "calls": len(ms),
            "errors": self.errors,
            "p50_ms": round(percentile(ms, 0.50), 3),
            "p99_ms": round(percentile(ms, 0.99), 3),
            "max_ms": round(max(ms), 3) if ms else float("nan"),
        }


@dataclass
class ConsumerReport:
    persistent: Series = field(default_factory=Series)
    fresh: Series = field(default_factory=Series)
    error_samples: list[str] = field(default_factory=list)

    def error(self, series: Series, message: str) -> None:
        series.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(message)

    def as_dict(self) -> dict[str, Any]:
        both = Series(self.persistent.latencies + self.fresh.latencies, self.persistent.errors + self.fresh.errors)
        return {
            "persistent": self.persistent.summary(),
            "fresh": self.fresh.summary(),
            "all": both.summary(),
            "error_samples": self.error_samples,
        }


class _Connection:
    """One dubbo:// connection doing one call at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = FrameReader()

    @classmethod
    async def open(cls, host: str, port: int, limit: float) -> _Connection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit)
        return cls(reader, writer)

    async def call(self, frame: bytes, request_id: int) -> ResponseFrame:
        self.writer.write(frame)
        while True:
            event = self.frames.next_event()
            if event is NEED_DATA:
                self.frames.receive_data(await self.reader.read(65536))
                continue
            if isinstance(event, ConnectionClosed):
                raise ConnectionError(f"connection closed (truncated={event.truncated}) before the answer")
            if isinstance(event, RequestFrame):  # READONLY or a heartbeat from the server
                continue
            if isinstance(event, ResponseFrame) and event.request_id == request_id and not event.event:
                return event

    def close(self) -> None:
        self.writer.close()


def check_answer(frame: ResponseFrame, kind: str, expected: Any) -> str | None:
    """``None`` when the answer is right, else what is wrong with it."""
    if frame.status != Status.OK:
        return f"{kind}: status {frame.status}"
    flag, value, _ = decode_result(frame.body)
    if flag not in (ResultFlag.VALUE, ResultFlag.VALUE_WITH_ATTACHMENTS):
        return f"{kind}: flag {flag}"
    if kind == "echo":
        return None if value == expected else f"echo: {value!r} != {expected!r}"
    items = [item.itemId for item in getattr(value, "items", None) or []]
    if getattr(value, "code", None) != 200 or items != EXPECTED_ITEMS:
        return f"recommend: code {getattr(value, 'code', None)} items {items[:3]}"
    return None


async def _one_call(conn: _Connection, request_id: int, limit: float) -> tuple[float, str | None]:
    if request_id % 2:
        frame, kind, expected = recommend_request(request_id), "recommend", None
    else:
        expected = f"echo-{request_id}"
        frame, kind = echo_request(request_id, expected), "echo"
    started = time.perf_counter()
    answer = await asyncio.wait_for(conn.call(frame, request_id), limit)
    return time.perf_counter() - started, check_answer(answer, kind, expected)


async def persistent(host: str, port: int, until: float, rate: float, limit: float, report: ConsumerReport) -> None:
    ids = itertools.count(1)
    conn: _Connection | None = None
    period = 1.0 / rate
    next_at = time.monotonic()
    while time.monotonic() < until:
        try:
            if conn is None:
                conn = await _Connection.open(host, port, limit)
            seconds, problem = await _one_call(conn, next(ids), limit)
            if problem:
                report.error(report.persistent, problem)
            else:
                report.persistent.latencies.append(seconds)
        except (OSError, TimeoutError, ConnectionError) as exc:
            report.error(report.persistent, f"persistent: {type(exc).__name__} {exc}")
            if conn is not None:
                conn.close()
            conn = None
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    if conn is not None:
        conn.close()


async def fresh(host: str, port: int, until: float, interval: float, limit: float, report: ConsumerReport) -> None:
    ids = itertools.count(1, 2)  # odd: recommend
    while time.monotonic() < until:
        started = time.monotonic()
        conn = None
        try:
            conn = await _Connection.open(host, port, limit)
            seconds, problem = await _one_call(conn, next(ids), limit)
            if problem:
                report.error(report.fresh, problem)
            else:
                report.fresh.latencies.append(seconds)
        except (OSError, TimeoutError, ConnectionError) as exc:
            report.error(report.fresh, f"fresh: {type(exc).__name__} {exc}")
        finally:
            if conn is not None:
                conn.close()
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def run(
    host: str, port: int, seconds: float, rate: float = 200.0, fresh_interval: float = 0.05, limit: float = 5.0
) -> ConsumerReport:
    report = ConsumerReport()
    until = time.monotonic() + seconds
    await asyncio.gather(
        persistent(host, port, until, rate, limit, report),
        fresh(host, port, until, fresh_interval, limit, report),
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--fresh-interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    report = asyncio.run(run(args.host, args.port, args.seconds, args.rate, args.fresh_interval, args.timeout))
    print(json.dumps(report.as_dict()), flush=True)


if __name__ == "__main__":
    main()
