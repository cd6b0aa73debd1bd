"""``run_beside``: the shim rides on a real dubbo:// ``provider.transport.Server``,
sharing its recommender, starting when it listens and stopping when it drains."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommend_v1_pb2_grpc as v1_grpc
from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.grpc_shim import GrpcShimConfig, GrpcShimError, run_beside
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Lifecycle, Server
from tests.grpc_shim.recommenders import EchoRecommender


@pytest.mark.asyncio
async def test_one_recommender_answers_on_both_protocols_and_both_stop_together() -> None:
    recommender = PopularRecommender()
    lifecycle = Lifecycle()
    shim = run_beside(lifecycle, recommender, GrpcShimConfig(port=0, grace_seconds=1))
    server = Server(
        Dispatcher(default_exports(recommender)), ServerConfig(host="127.0.0.1", port=0, drain_timeout=1), lifecycle
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel:
            grpc_answer = await v1_grpc.RecommendServiceStub(channel).Recommend(
                v1_pb2.RecommendRequest(user_id="u1", scene="home", count=3), timeout=5
            )
        async with await DubboClient.connect("127.0.0.1", server.port) as client:
            dubbo_answer = await client.call(
                INTERFACE,
                "recommend",
                [RecommendRequest(userId="u1", scene="home", count=3)],
                parameter_types=["org.dubborecsys.api.RecommendRequest"],
                version=VERSION,
            )
        assert [i.item_id for i in grpc_answer.items] == [i.itemId for i in dubbo_answer.items]
        assert len(grpc_answer.items) == 3 and grpc_answer.pipeline == dubbo_answer.pipeline
        port = shim.port
    finally:
        await server.shutdown()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
    assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@pytest.mark.asyncio
async def test_nothing_starts_before_the_server_listens() -> None:
    shim = run_beside(Lifecycle(), EchoRecommender(), GrpcShimConfig(port=0))
    with pytest.raises(GrpcShimError, match="not started"):
        _ = shim.port
