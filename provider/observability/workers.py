"""One ``/metrics`` for a provider that runs ``--workers N`` processes.

Why: the workers share the dubbo:// port through SO_REUSEPORT, so each one counts
only the calls the kernel gave it, and a scrape of one worker alone would see a
fraction of the traffic. ``serve`` therefore gives every worker a REST shim on the
configured TCP port (SO_REUSEPORT too: it stays up while any worker lives) and on a
Unix socket of its own in a private directory. The worker a scrape reaches asks each
sibling for its own exposition over that socket (``GET /metrics?scope=worker``,
``fetch_exposition``) and ``merge_expositions``
writes one document in which every sample carries a ``worker`` label
("0".."N-1"), plus ``dubbo_recsys_worker_up{worker}``: 0 for a sibling that did
not answer within the timeout (its samples are then missing, not zeroed).
Summing over ``worker`` gives the provider's totals, as Prometheus users expect
of multi-process servers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

__all__ = ["WORKER_LABEL", "fetch_exposition", "fetch_from_worker", "merge_expositions"]

log = logging.getLogger(__name__)

WORKER_LABEL = "worker"
_MAX_BYTES = 16 * 1024 * 1024


async def fetch_exposition(socket_path: str, timeout: float = 1.0) -> bytes | None:
    """``GET /metrics`` from a sibling's REST shim on a Unix socket; ``None`` when it does not answer well."""
    return await fetch_from_worker(socket_path, "/metrics?scope=worker", wait_seconds=timeout)


async def fetch_from_worker(
    socket_path: str, target: str, headers: Sequence[tuple[str, str]] = (), wait_seconds: float = 1.0
) -> bytes | None:
    """The body of ``GET target`` from a sibling's REST shim on its Unix socket (the console's fleet view
    asks for ``/console/state?scope=worker`` and ``/console/series?scope=worker`` this way, passing the
    caller's ``Authorization`` on); ``None`` when it does not answer 200 within ``wait_seconds``."""
    head_lines = "".join(f"{name}: {value}\r\n" for name, value in headers if "\n" not in name + value)
    request = f"GET {target} HTTP/1.0\r\nHost: worker\r\nConnection: close\r\n{head_lines}\r\n"
    try:
        async with asyncio.timeout(wait_seconds):
            reader, writer = await asyncio.open_unix_connection(socket_path)
            try:
                writer.write(request.encode("latin-1", "replace"))
                await writer.drain()
                answer = await reader.read(_MAX_BYTES)
                while chunk := await reader.read(_MAX_BYTES):
                    answer += chunk
            finally:
                writer.close()
    except (OSError, TimeoutError) as exc:
        log.warning("%s of the worker at %s: %s", target, socket_path, exc or type(exc).__name__)
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        log.warning("%s of the worker at %s: answered %r", target, socket_path, head[:80])
        return None
    return body


class _Relabelled(Collector):
    def __init__(self, documents: Sequence[tuple[str, bytes | None]]) -> None:
        self.documents = documents

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        up = GaugeMetricFamily(
            "dubbo_recsys_worker_up", "1 when the worker's metrics are in this scrape", labels=[WORKER_LABEL]
        )
        for worker, document in self.documents:
            up.add_metric([worker], 0.0 if document is None else 1.0)
            if document is None:
                continue
            for family in text_string_to_metric_families(document.decode("utf-8", "replace")):
                into = merged.get(family.name)
                if into is None:
                    into = merged[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
                for sample in family.samples:
                    into.add_sample(
                        sample.name,
                        {**sample.labels, WORKER_LABEL: worker},
                        sample.value,
                        sample.timestamp,
                        sample.exemplar,
                    )
        yield from merged.values()
        yield up


def merge_expositions(documents: Sequence[tuple[str, bytes | None]]) -> bytes:
    """One Prometheus text document from ``(worker label, exposition or None)`` pairs."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Relabelled(documents))
    return generate_latest(registry)
