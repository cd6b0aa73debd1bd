"""A real Go gRPC client (tests/go-client, built by tests/ci/50-grpc-go.sh) against the shim.

The binary's path comes from ``GO_CLIENT_BIN``. It prints one JSON object per
call; the assertions below check what a non-Python stack saw on the wire: the
seed's capitalised fields, our v1 JSON names, health and reflection.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from dubbo_recsys.provider.grpc_shim import GrpcShim, GrpcShimConfig
from tests.grpc_shim.recommenders import EchoRecommender
from tests.support import free_port, require_env


async def run_client(binary: str, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    process = await asyncio.create_subprocess_exec(
        binary, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return process.returncode or 0, lines, err.decode()


def by_call(lines: list[dict[str, Any]], call: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["call"] == call]


@pytest.mark.asyncio
async def test_go_client_calls_both_services_health_and_reflection() -> None:
    binary = require_env("GO_CLIENT_BIN")
    echo = EchoRecommender()
    async with GrpcShim(echo, GrpcShimConfig(host="127.0.0.1", port=free_port())) as shim:
        code, lines, err = await run_client(
            binary, "-addr", f"127.0.0.1:{shim.port}", "-user", "go-user", "-count", "3"
        )
    assert code == 0, err
    health = {line["service"]: line["status"] for line in by_call(lines, "health")}
    assert health == {"": "SERVING", "RecommenderInferService": "SERVING", "dubborecsys.v1.RecommendService": "SERVING"}
    (reflection,) = by_call(lines, "reflection")
    assert {"RecommenderInferService", "dubborecsys.v1.RecommendService", "grpc.health.v1.Health"} <= set(
        reflection["services"]
    )
    (seed,) = by_call(lines, "seed")
    seed_response = seed["response"]
    assert seed_response["Code"] == 200
    assert [i["itemid"] for i in seed_response["Data"]["iteminfo"]] == ["item-0", "item-1", "item-2"]
    (v1,) = by_call(lines, "v1")
    v1_response = v1["response"]
    assert v1_response["code"] == 200 and v1_response["requestId"] == "go-user/home"
    # the Go client sends exposure ["seen-1"] and context {"device": "go-client"}
    assert [i["itemId"] for i in v1_response["items"]] == ["item-0", "item-1", "item-2"]
    assert [r.context for r in echo.requests] == [
        {"groupId": "recsys", "namespaceId": "public"},
        {"device": "go-client"},
    ]
    assert echo.requests[1].exposureList == ["seen-1"]


@pytest.mark.asyncio
async def test_go_client_sees_in_band_errors_and_rank_requests() -> None:
    binary = require_env("GO_CLIENT_BIN")
    async with GrpcShim(EchoRecommender(), GrpcShimConfig(host="127.0.0.1", port=free_port())) as shim:
        code, lines, err = await run_client(
            binary, "-addr", f"127.0.0.1:{shim.port}", "-user", "", "-candidates", "a,b,c", "-count", "0"
        )
    assert code == 0, err
    (seed,) = by_call(lines, "seed")
    assert seed["response"]["Code"] == 400 and seed["response"]["Message"] == "UserId is required"
    (v1,) = by_call(lines, "v1")
    assert v1["response"]["code"] == 400


@pytest.mark.asyncio
async def test_go_client_reports_an_unreachable_shim() -> None:
    binary = require_env("GO_CLIENT_BIN")
    code, lines, err = await run_client(binary, "-addr", f"127.0.0.1:{free_port()}", "-timeout", "1s")
    assert code == 1 and lines == []
    assert "health" in err and "Unavailable" in err


@pytest.mark.asyncio
async def test_go_client_against_the_providers_popular_recommender() -> None:
    binary = require_env("GO_CLIENT_BIN")
    from dubbo_recsys.provider.popular import PopularRecommender

    async with GrpcShim(PopularRecommender(), GrpcShimConfig(host="127.0.0.1", port=free_port())) as shim:
        code, lines, err = await run_client(binary, "-addr", f"127.0.0.1:{shim.port}", "-count", "2")
    assert code == 0, err
    (seed,) = by_call(lines, "seed")
    assert [i["itemid"] for i in seed["response"]["Data"]["iteminfo"]] == ["item-0001", "item-0002"]
    (v1,) = by_call(lines, "v1")
    response = v1["response"]
    assert (response["pipeline"], response["degraded"]) == ("popular", True)
    assert [(i["itemId"], i["channel"]) for i in response["items"]] == [
        ("item-0001", "popular"),
        ("item-0002", "popular"),
    ]
