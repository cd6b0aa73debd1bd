"""A test-only Dubbo service whose methods misbehave on request (slow, failing, big, one-way)."""

from __future__ import annotations

import asyncio

from dubbo_recsys.provider.spec import Export, MethodSpec, ServiceSpec

INTERFACE = "org.dubborecsys.test.Probe"
PROBE_SPEC = ServiceSpec(
    INTERFACE,
    methods=(
        MethodSpec("sleep", ("int", "java.lang.String"), "java.lang.String"),
        MethodSpec("fail", ("java.lang.String",), "java.lang.String"),
        MethodSpec("big", ("int",), "java.lang.String"),
        MethodSpec("record", ("java.lang.String",), "void"),
        MethodSpec("recorded", (), "java.util.List"),
        MethodSpec("nothing", (), "java.lang.Object"),
    ),
    group="test",
    version="1.0",
)


class Probe:
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

    def nothing(self) -> None:
        return None


def probe_export() -> tuple[Export, Probe]:
    probe = Probe()
    return Export(PROBE_SPEC, probe), probe


def call_probe(client, method, args=(), types=(), **kw):
    return client.call(INTERFACE, method, list(args), parameter_types=list(types), version="1.0", group="test", **kw)
