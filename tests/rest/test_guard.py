"""Slow or many HTTP callers cannot make /healthz fail: real uvicorn on a real socket."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.rest import RestShim, RestShimConfig


async def _held(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that each send half a request head and then nothing."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
        held.append(sock)
    await asyncio.sleep(0.2)
    return held


@pytest.mark.asyncio
async def test_healthz_answers_while_1100_requests_are_held_and_slow_ones_are_closed() -> None:
    config = RestShimConfig(port=0, max_connections=1000, request_timeout=2.0)
    async with RestShim(PopularRecommender(), config) as shim:
        held = await _held(shim.port, 1100)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{shim.port}", timeout=10) as client:
                for _ in range(5):
                    assert (await client.get("/healthz")).status_code == 200
                assert (await client.get("/recommend?userId=u1")).status_code == 200
            assert len(shim.guard.open) <= 1000 and shim.guard.evicted >= 100  # the longest waiting went first
            for _ in range(50):
                if not shim.guard.open:
                    break
                await asyncio.sleep(0.2)
            assert not shim.guard.open and shim.guard.timed_out >= 900  # none lasted past the request timeout
        finally:
            for sock in held:
                sock.close()


@pytest.mark.asyncio
async def test_past_the_request_bound_calls_get_503_and_retry_after_but_probes_do_not() -> None:
    gate = asyncio.Event()

    class Slow(PopularRecommender):
        async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
            await gate.wait()
            return await super().recommend(request)

    config = RestShimConfig(port=0, max_concurrent_requests=4)
    async with (
        RestShim(Slow(), config) as shim,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{shim.port}", timeout=10) as client,
    ):
        busy = [asyncio.ensure_future(client.get(f"/recommend?userId=u{i}")) for i in range(4)]
        await asyncio.sleep(0.3)
        refused = await client.get("/recommend?userId=late")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code in (200, 503)  # answered: it says the phase
        gate.set()
        assert [answer.status_code for answer in await asyncio.gather(*busy)] == [200] * 4
