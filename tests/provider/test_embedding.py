"""``provider.server.Server``: the embeddable provider, started and stopped by its host."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import httpx
import pytest

from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.errors import RemoteApplicationError, ServiceSpecError
from dubbo_recsys.provider.hostaddress import local_address
from dubbo_recsys.provider.registration import RegistrationSettings
from dubbo_recsys.provider.rest import RestShimConfig
from dubbo_recsys.provider.server import Server
from dubbo_recsys.provider.service import Service
from hessian2 import Long
from tests.provider.contract_sample import Node, NotFound, Sample

LOCAL = ServerConfig(host="127.0.0.1", port=0, drain_timeout=2)
SAMPLE = "org.dubborecsys.test.contract.SampleService"


class Connected(Sample, group="connected"):
    """A service that opens something before serving and closes it after."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def __aenter__(self) -> Connected:
        self.events.append("enter")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.events.append("exit")


async def call(port: int, method: str, args: list[Any], types: list[str], group: str = "g") -> Any:
    async with await DubboClient.connect("127.0.0.1", port) as client:
        return await client.call(SAMPLE, method, args, parameter_types=types, version="1.0.0", group=group)


@pytest.mark.asyncio
async def test_async_with_serves_and_leaves_signals_and_logging_to_the_host() -> None:
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    root = list(logging.getLogger().handlers)
    async with Server(Sample(), LOCAL) as server:
        assert server.address == f"127.0.0.1:{server.port}"
        node = await call(server.port, "get", [Long(7)], ["long"])
        assert isinstance(node, Node) and node.name == "n7"
        with pytest.raises(RemoteApplicationError) as info:
            await call(server.port, "get", [Long(404)], ["long"])
        assert type(info.value.exception) is NotFound and info.value.exception.key == 404
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers
    assert logging.getLogger().handlers == root


@pytest.mark.asyncio
async def test_serve_forever_returns_once_stopped_and_services_are_entered_around_it() -> None:
    events: list[str] = []
    server = Server([Sample(), Connected(events)], LOCAL)
    running = asyncio.create_task(server.serve_forever())
    for _ in range(200):
        if events:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert events == ["enter"]
    port = server.port
    assert (await call(port, "get", ["x"], ["java.lang.String"], group="connected")).name == "x"
    await server.stop(drain=0.5)
    await asyncio.wait_for(running, 5)
    assert events == ["enter", "exit"]
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


@pytest.mark.asyncio
async def test_a_service_that_cannot_start_fails_start_and_is_exited() -> None:
    events: list[str] = []

    class Broken(Connected, group="broken"):
        async def __aenter__(self) -> Connected:
            await super().__aenter__()
            raise RuntimeError("no database")

    server = Server([Connected(events), Broken(events)], LOCAL)  # two groups of one interface
    with pytest.raises(ServiceSpecError):
        Server([Connected(events), Connected(events)], LOCAL)  # the same route twice
    with pytest.raises(RuntimeError, match="no database"):
        await server.start()
    assert events == ["enter", "enter", "exit"]  # the first one was entered, then unwound


def test_contracts_are_checked_before_anything_listens() -> None:
    class NoHint(Service, interface="org.x.NoHint"):
        def f(self, x) -> int:
            return 0

    with pytest.raises(ServiceSpecError, match="no type hint"):
        Server(NoHint())
    with pytest.raises(ServiceSpecError, match="nothing to serve"):
        Server([])


def test_defaults_are_a_java_providers() -> None:
    server = Server(Sample(), registry=RegistrationSettings("nacos://127.0.0.1:1"))
    assert server.config.host == "0.0.0.0"  # every interface; the registry gets this machine's address
    assert server.registry is not None and server.registry.application == "tests"  # the services' package
    named = Server(Sample(), registry=RegistrationSettings("nacos://127.0.0.1:1", application="orders"))
    assert named.registry is not None and named.registry.application == "orders"
    assert local_address() != "0.0.0.0"


@pytest.mark.asyncio
async def test_rest_for_a_users_services_has_operations_but_no_inference() -> None:
    server = Server(Sample(), LOCAL, rest=RestShimConfig(host="127.0.0.1", port=0))
    async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.rest.port}") as http:
        await call(server.port, "get", [Long(1)], ["long"])
        assert (await http.get("/readyz")).json()["ready"] is True
        metrics = (await http.get("/metrics")).text
        assert f'interface="{SAMPLE}",method="get",protocol="dubbo",status="ok"' in metrics
        assert (await http.post("/recommend", json={"userId": "u"})).status_code == 404
        state = (await http.get("/console/state")).json()
        assert [s["interface"] for s in state["services"]] == [SAMPLE]
