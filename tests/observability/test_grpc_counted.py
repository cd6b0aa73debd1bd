"""gRPC calls are counted when the gRPC shim holds ``RestShim.observed("grpc")``, as serve wires it."""

from __future__ import annotations

import grpc
import httpx
import pytest

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommend_v1_pb2_grpc as v1_grpc
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.grpc_shim import GrpcShimConfig
from dubbo_recsys.provider.grpc_shim import run_beside as grpc_beside
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.rest import RestShim, RestShimConfig
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Lifecycle, Server


@pytest.mark.asyncio
async def test_grpc_calls_show_in_metrics_under_their_protocol() -> None:
    recommender = PopularRecommender()
    exports = default_exports(recommender)
    lifecycle = Lifecycle()
    rest = RestShim(recommender, RestShimConfig(port=0), exports).attach(lifecycle)
    shim = grpc_beside(lifecycle, rest.observed("grpc"), GrpcShimConfig(port=0, grace_seconds=1))
    server = Server(Dispatcher(exports), ServerConfig(host="127.0.0.1", port=0, drain_timeout=1), lifecycle)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel:
            stub = v1_grpc.RecommendServiceStub(channel)
            for user in ("u1", "u2"):
                answer = await stub.Recommend(v1_pb2.RecommendRequest(user_id=user, count=2), timeout=5)
                assert len(answer.items) == 2
            refused = await stub.Recommend(v1_pb2.RecommendRequest(user_id="", count=2), timeout=5)
            assert refused.code == 400
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"http://127.0.0.1:{rest.port}/metrics")).text
    finally:
        await server.shutdown()
    assert (
        'dubbo_recsys_requests_total{interface="recommend",method="recommend",protocol="grpc",status="200"} 2.0' in text
    )
    assert (
        'dubbo_recsys_requests_total{interface="recommend",method="recommend",protocol="grpc",status="400"} 1.0' in text
    )
