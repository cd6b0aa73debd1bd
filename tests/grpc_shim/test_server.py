"""The shim as a real grpc.aio server on 127.0.0.1, called by grpc.aio clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommend_v1_pb2_grpc as v1_grpc
from dubbo_recsys.interfaces.proto import recommender_infer_pb2 as seed_pb2
from dubbo_recsys.interfaces.proto import recommender_infer_pb2_grpc as seed_grpc
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.provider.grpc_shim import GrpcShim, GrpcShimConfig, GrpcShimError, GrpcShimStartError, start_grpc_shim
from tests.grpc_shim.recommenders import EchoRecommender, RaisingRecommender, SlowRecommender, WrongAnswerRecommender
from tests.support import free_port

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def loopback(port: int = 0, **fields: Any) -> GrpcShimConfig:
    return GrpcShimConfig(host="127.0.0.1", port=port, grace_seconds=1.0, **fields)


@pytest_asyncio.fixture
async def echo() -> EchoRecommender:
    return EchoRecommender()


async def _channel(recommender: Recommender, **fields: Any) -> AsyncIterator[grpc.aio.Channel]:
    async with (
        GrpcShim(recommender, loopback(**fields)) as shim,
        grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel,
    ):
        yield channel


@pytest_asyncio.fixture
async def channel(echo: EchoRecommender) -> AsyncIterator[grpc.aio.Channel]:
    async for value in _channel(echo):
        yield value


@pytest.mark.asyncio
async def test_seed_service_answers_on_the_seed_method_path(channel: grpc.aio.Channel, echo: EchoRecommender) -> None:
    call = channel.unary_unary(
        "/RecommenderInferService/RecommenderInfer",
        request_serializer=seed_pb2.RecommendRequest.SerializeToString,
        response_deserializer=seed_pb2.RecommendResponse.FromString,
    )
    reply = await call(seed_pb2.RecommendRequest(UserId="u1", DataId="home", GroupId="g", RecallNum=3), timeout=5)
    assert reply.Code == 200
    assert [item.itemid for item in reply.Data.iteminfo_] == ["item-0", "item-1", "item-2"]
    assert [item.score for item in reply.Data.iteminfo_] == pytest.approx([1.0, 0.5, 1 / 3])
    assert echo.requests[-1].context == {"groupId": "g"}


@pytest.mark.asyncio
async def test_seed_rank_and_bad_request(channel: grpc.aio.Channel) -> None:
    stub = seed_grpc.RecommenderInferServiceStub(channel)
    ranked = await stub.RecommenderInfer(
        seed_pb2.RecommendRequest(
            UserId="u", DataId="d", ModelType="rank", ItemList=seed_pb2.StringList(value=["a", "b"])
        ),
        timeout=5,
    )
    assert [item.itemid for item in ranked.Data.iteminfo_] == ["b", "a"]
    bad = await stub.RecommenderInfer(seed_pb2.RecommendRequest(UserId="u", RecallNum=5000), timeout=5)
    assert (bad.Code, bad.Message) == (400, "DataId is required")
    assert len(bad.Data.iteminfo_) == 0


@pytest.mark.asyncio
async def test_v1_service_round_trips_every_field(channel: grpc.aio.Channel, echo: EchoRecommender) -> None:
    stub = v1_grpc.RecommendServiceStub(channel)
    reply = await stub.Recommend(
        v1_pb2.RecommendRequest(
            user_id="u9", scene="degraded", count=2, exposure_list=["item-0"], context={"device": "ios"}, debug=True
        ),
        timeout=5,
    )
    assert (reply.code, reply.request_id, reply.pipeline, reply.degraded) == (200, "u9/degraded", "light", True)
    assert [(i.item_id, i.channel) for i in reply.items] == [("item-1", "echo"), ("item-2", "echo")]
    assert dict(reply.debug_info) == {"device": "ios"}
    assert echo.requests[-1].exposureList == ["item-0"]


@pytest.mark.asyncio
async def test_v1_in_band_errors_pass_through_with_status_ok(channel: grpc.aio.Channel) -> None:
    stub = v1_grpc.RecommendServiceStub(channel)
    from_recommender = await stub.Recommend(v1_pb2.RecommendRequest(scene="s"), timeout=5)
    assert (from_recommender.code, from_recommender.message) == (400, "userId is required")
    from_shim = await stub.Recommend(v1_pb2.RecommendRequest(user_id="u", count=-1), timeout=5)
    assert from_shim.code == 400 and "count" in from_shim.message


@pytest.mark.asyncio
async def test_health_reports_each_service_and_unknown_names(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", "RecommenderInferService", "dubborecsys.v1.RecommendService"):
        assert (await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)).status == SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.asyncio
async def test_reflection_lists_the_services_and_serves_the_seed_file(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="RecommenderInferService"),
    ]
    replies = [reply async for reply in stub.ServerReflectionInfo(iter(requests), timeout=5)]
    names = {service.name for service in replies[0].list_services_response.service}
    assert names == {
        "RecommenderInferService",
        "dubborecsys.v1.RecommendService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    assert replies[1].file_descriptor_response.file_descriptor_proto


@pytest.mark.asyncio
async def test_undecodable_request_gets_a_status_and_the_server_carries_on(channel: grpc.aio.Channel) -> None:
    raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        "/dubborecsys.v1.RecommendService/Recommend"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await raw(b"\xff\xff\xff\xff", timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cannot decode dubborecsys.v1.RecommendRequest" in (caught.value.details() or "")
    reply = await v1_grpc.RecommendServiceStub(channel).Recommend(v1_pb2.RecommendRequest(user_id="u"), timeout=5)
    assert reply.code == 200


@pytest.mark.asyncio
async def test_oversized_request_is_refused_and_the_server_carries_on(echo: EchoRecommender) -> None:
    async for channel in _channel(echo, max_message_bytes=64 * 1024):
        stub = v1_grpc.RecommendServiceStub(channel)
        huge = v1_pb2.RecommendRequest(user_id="u", exposure_list=["x" * 1000] * 100)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Recommend(huge, timeout=5)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert (await stub.Recommend(v1_pb2.RecommendRequest(user_id="u"), timeout=5)).code == 200
    assert echo.requests[-1].exposureList == []


@pytest.mark.asyncio
async def test_unknown_method_is_unimplemented(channel: grpc.aio.Channel) -> None:
    raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        "/recommend.RecommenderInferService/RecommenderInfer"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await raw(b"", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "recommender", [RaisingRecommender(), WrongAnswerRecommender()], ids=["raises", "wrong-answer"]
)
async def test_broken_recommender_answers_500_on_both_services(recommender: Recommender) -> None:
    async for channel in _channel(recommender):
        seed = await seed_grpc.RecommenderInferServiceStub(channel).RecommenderInfer(
            seed_pb2.RecommendRequest(UserId="u", DataId="d"), timeout=5
        )
        v1 = await v1_grpc.RecommendServiceStub(channel).Recommend(v1_pb2.RecommendRequest(user_id="u"), timeout=5)
        assert seed.Code == 500 and v1.code == 500
        assert v1.message.startswith(("recommender failed: RuntimeError", "invalid recommender answer"))


@pytest.mark.asyncio
async def test_client_deadline_is_honoured() -> None:
    async for channel in _channel(SlowRecommender(delay=5)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await v1_grpc.RecommendServiceStub(channel).Recommend(v1_pb2.RecommendRequest(user_id="u"), timeout=0.2)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


@pytest.mark.asyncio
async def test_stop_goes_not_serving_and_lets_in_flight_calls_finish() -> None:
    slow = SlowRecommender(delay=0.3)
    shim = await start_grpc_shim(slow, loopback())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        await shim.set_serving(False)
        assert (await health.Check(health_pb2.HealthCheckRequest(), timeout=5)).status == NOT_SERVING
        await shim.set_serving(True)
        in_flight = asyncio.ensure_future(
            v1_grpc.RecommendServiceStub(channel).Recommend(v1_pb2.RecommendRequest(user_id="u"), timeout=5)
        )
        await asyncio.sleep(0.1)
        await shim.stop(grace=2)
        reply = await in_flight
    assert reply.code == 200 and slow.finished == 1
    await shim.stop()  # a second stop is harmless


@pytest.mark.asyncio
async def test_busy_port_fails_start_with_a_clear_error(echo: EchoRecommender) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        shim = GrpcShim(echo, loopback(port=taken.getsockname()[1]))
        with pytest.raises(GrpcShimStartError, match="cannot bind"):
            await shim.start()
    with pytest.raises(GrpcShimError, match="not started"):
        _ = shim.port


@pytest.mark.asyncio
async def test_reuse_port_lets_two_shims_share_a_port(echo: EchoRecommender) -> None:
    port = free_port()
    async with (
        GrpcShim(echo, loopback(port=port, reuse_port=True)) as first,
        GrpcShim(echo, loopback(port=port, reuse_port=True)) as second,
    ):
        assert first.port == second.port == port


@pytest.mark.asyncio
async def test_reflection_can_be_turned_off(echo: EchoRecommender) -> None:
    async for channel in _channel(echo, reflection=False):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            _ = [
                r
                async for r in stub.ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
                )
            ]
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.asyncio
async def test_concurrent_calls_beyond_the_limit_are_refused_not_queued() -> None:
    slow = SlowRecommender(delay=0.5)
    async for channel in _channel(slow, max_concurrent_rpcs=2):
        stub = v1_grpc.RecommendServiceStub(channel)
        calls = [stub.Recommend(v1_pb2.RecommendRequest(user_id="u"), timeout=5) for _ in range(4)]
        results = await asyncio.gather(*calls, return_exceptions=True)
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(refused) == 2
    assert all(r.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for r in refused)
    assert slow.finished == 2
