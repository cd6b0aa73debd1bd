"""A test-only Dubbo service whose methods misbehave on request (slow, failing, big, one-way)."""

from __future__ import annotations

import asyncio
from typing import Any

from dubbo_recsys.provider.contract import Export, export_of
from dubbo_recsys.provider.service import Service

INTERFACE = "org.dubborecsys.test.Probe"


class Probe(Service, interface=INTERFACE, version="1.0", group="test"):
    def __init__(self) -> None:
        self.records: list[str] = []

    async def sleep(self, millis: int, tag: str) -> str:
        await asyncio.sleep(millis / 1000)
        return tag

    def fail(self, message: str) -> str:
        raise ValueError(message)

    def big(self, size: int) -> str:
        return "x" * size

    def record(self, value: str) -> None:
        self.records.append(value)

    def recorded(self) -> list[str]:
        return list(self.records)

    def nothing(self) -> Any:
        return None


def probe_export() -> tuple[Export, Probe]:
    probe = Probe()
    return export_of(probe), probe


def call_probe(client, method, args=(), types=(), **kw):
    return client.call(INTERFACE, method, list(args), parameter_types=list(types), version="1.0", group="test", **kw)
