"""The same classes of hostile input as on dubbo://, against the gRPC shim: big metadata, big messages,
tiny deadlines, one connection opening streams without end; another channel keeps being served."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.provider.grpc_shim import GrpcShim, GrpcShimConfig
from tests.grpc_shim.recommenders import EchoRecommender

METHOD = "/dubborecsys.v1.RecommendService/Recommend"


class Counting(EchoRecommender):
    """Echo, after ``delay`` seconds, remembering the most calls it had at once."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay, self.running, self.peak = delay, 0, 0

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(self.delay)
            return await super().recommend(request)
        finally:
            self.running -= 1


def _stub(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(
        METHOD,
        request_serializer=v1_pb2.RecommendRequest.SerializeToString,
        response_deserializer=v1_pb2.RecommendResponse.FromString,
    )


@pytest_asyncio.fixture
async def counting() -> Counting:
    return Counting(0.02)


@pytest_asyncio.fixture
async def shim(counting: Counting) -> AsyncIterator[GrpcShim]:
    async with GrpcShim(counting, GrpcShimConfig(host="127.0.0.1", port=0, grace_seconds=0.5)) as running:
        yield running


async def _good_call(port: int) -> None:
    # a connection of its own: grpc shares one between channels with the same target and options
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
    ) as channel:
        reply = await _stub(channel)(v1_pb2.RecommendRequest(user_id="good", count=2), timeout=10)
        assert reply.code == 200 and len(reply.items) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [20 * 1024, 1024 * 1024])
async def test_metadata_beyond_the_bound_is_refused(shim: GrpcShim, size: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _stub(channel)(
                v1_pb2.RecommendRequest(user_id="u", count=1), metadata=(("x-big", "a" * size),), timeout=10
            )
        assert refused.value.code() in (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.UNAVAILABLE,
        )
    await _good_call(shim.port)


@pytest.mark.asyncio
async def test_a_message_beyond_the_bound_is_refused_as_resource_exhausted(shim: GrpcShim) -> None:
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{shim.port}", options=[("grpc.max_send_message_length", 64 << 20)]
    ) as channel:
        big = v1_pb2.RecommendRequest(user_id="u", count=1, candidate_ids=["x" * 1000] * 5000)  # ~5 MB
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _stub(channel)(big, timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    await _good_call(shim.port)


@pytest.mark.asyncio
async def test_a_one_millisecond_deadline_fails_that_call_only(shim: GrpcShim, counting: Counting) -> None:
    late = 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel:
        for _ in range(50):
            try:  # the recommender takes 20 ms; a timer firing late on a loaded machine may let one through
                reply = await _stub(channel)(v1_pb2.RecommendRequest(user_id="u", count=1), timeout=0.001)
                late -= reply.code != 200  # a wrong answer spoils the count
            except grpc.aio.AioRpcError as error:
                late += error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert late >= 40  # and nothing else went wrong: any other failure raised out of the loop
    await asyncio.sleep(0.1)
    assert counting.running == 0  # the work stopped with the deadline
    await _good_call(shim.port)


@pytest.mark.asyncio
async def test_one_connection_gets_a_bounded_number_of_streams_at_once(shim: GrpcShim, counting: Counting) -> None:
    recommender = counting
    async with grpc.aio.insecure_channel(f"127.0.0.1:{shim.port}") as channel:
        stub = _stub(channel)
        await stub(v1_pb2.RecommendRequest(user_id="first", count=1), timeout=10)  # settings exchanged
        flood = [
            asyncio.ensure_future(stub(v1_pb2.RecommendRequest(user_id=f"u{i}", count=1), timeout=60))
            for i in range(1000)
        ]
        await asyncio.sleep(0.3)
        await _good_call(shim.port)  # another connection is served meanwhile
        replies = await asyncio.gather(*flood, return_exceptions=True)
    answered = [r for r in replies if not isinstance(r, BaseException)]
    refused = [r for r in replies if isinstance(r, grpc.aio.AioRpcError)]
    assert all(reply.code == 200 for reply in answered) and len(answered) + len(refused) == 1000
    # past the per-connection bound C-core clients are refused (retryable); grpc-go and grpc-java queue
    assert all(error.code() == grpc.StatusCode.UNAVAILABLE for error in refused)
    assert len(answered) >= shim.config.max_concurrent_streams
    assert recommender.peak <= shim.config.max_concurrent_streams
