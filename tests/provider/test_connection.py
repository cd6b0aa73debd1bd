"""What one connection may cost the others: fair turns, backpressure, in-flight bounds, stalled frames,
the budget of unfinished frames, and the drain of consumers that ignore READONLY. In-process server,
real loopback sockets; assertions are about order and counts, never about timings."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.provider.body import decode_message, decode_result
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.protocol import (
    NEED_DATA,
    ConnectionClosed,
    FrameReader,
    RequestFrame,
    ResponseFrame,
    encode_request,
)
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Server
from tests.provider.attacks.frames import RECOMMEND_SERVICE, echo_request, recommend_request
from tests.provider.probe import call_probe, probe_export

SEED = "com.loki.www.infer.DubbogoInferService"
RECOMMEND_TYPE = "org.dubborecsys.api.RecommendRequest"


class Counting(PopularRecommender):
    calls = 0

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        self.calls += 1
        return await super().recommend(request)


async def started(recommender: PopularRecommender | None = None, **overrides: Any) -> tuple[Server, object]:
    export, probe = probe_export()
    exports = [*default_exports(recommender or PopularRecommender()), export]
    server = Server(Dispatcher(exports), ServerConfig(port=0, **overrides))
    await server.start()
    return server, probe


class Raw:
    """A socket that sends what it is told and reads frames only when asked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = FrameReader(64 << 20)
        self.reset = False  # the server reset the connection (not a clean end of stream)

    @classmethod
    async def open(cls, port: int) -> Raw:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def next_event(self, wait: float = 10.0) -> Any:
        while (event := self.frames.next_event()) is NEED_DATA:
            try:
                chunk = await asyncio.wait_for(self.reader.read(1 << 16), wait)
            except ConnectionResetError:
                self.reset, chunk = True, b""
            self.frames.receive_data(chunk)
        return event

    def close(self) -> None:
        self.writer.close()


@pytest.mark.asyncio
async def test_a_pipelining_connection_does_not_make_another_wait_for_all_its_calls():
    server, _ = await started(frames_per_turn=8)
    greedy = await Raw.open(server.port)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        greedy.writer.write(b"".join(echo_request(i, i) for i in range(4000)))
        await greedy.writer.drain()
        answered = 0

        async def count() -> None:
            nonlocal answered
            while True:
                frame = await greedy.next_event()
                assert isinstance(frame, ResponseFrame) and decode_result(frame.body)[1] == frame.request_id
                answered += 1

        counting = asyncio.ensure_future(count())
        await asyncio.sleep(0)
        assert await client.echo(SEED, "mine") == "mine"
        # the one call went through while most of the 4000 were still waiting for their turns
        assert answered < 1000
        for _ in range(400):
            if answered == 4000:
                break
            await asyncio.sleep(0.05)
        assert answered == 4000
        counting.cancel()
    finally:
        greedy.close()
        await client.close()
        await server.shutdown()


class Recording(PopularRecommender):
    """Remembers whose calls it ran, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.users: list[str] = []

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        self.users.append(request.userId if request is not None else "")
        return await super().recommend(request)


@pytest.mark.asyncio
async def test_many_pipelining_connections_share_one_turn_so_a_single_call_waits_for_little():
    recommender = Recording()
    server, _ = await started(recommender, frames_per_turn=8)
    crowd = [await Raw.open(server.port) for _ in range(40)]
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        for n, peer in enumerate(crowd):
            peer.writer.write(b"".join(recommend_request(i, f"crowd{n}") for i in range(150)))
        for _ in range(200):  # until every peer of the crowd has calls waiting for their turns
            await asyncio.sleep(0.01)
            if len(server.turns) >= 30:
                break
        assert len(server.turns) >= 30
        before = len(recommender.users)
        request = RecommendRequest(userId="me", scene="home", count=5)
        answer = await client.call(
            RECOMMEND_SERVICE, "recommend", [request], parameter_types=[RECOMMEND_TYPE], version="1.0.0"
        )
        assert isinstance(answer, RecommendResponse)
        waited = recommender.users.index("me") - before
        # one turn serves 8 frames however many connections wait; the call may arrive a turn late,
        # after one frame of each peer whose bytes came in meanwhile
        assert waited < 24, waited  # 8 here; 40 when each waiting connection had a frame of every turn
        assert len(recommender.users) < 40 * 150  # the crowd was still waiting
        for peer in crowd:  # and every one of its calls is answered in the end
            for _ in range(150):
                frame = await peer.next_event()
                assert isinstance(frame, ResponseFrame) and frame.status == 20
    finally:
        for peer in crowd:
            peer.close()
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_a_large_frame_read_a_turn_at_a_time_arrives_whole_beside_small_calls():
    server, _ = await started(bytes_per_turn=16 * 1024)
    big = await Raw.open(server.port)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        body = b"\x91" * (3 << 20)  # well framed, not an invocation: answered status 40 once whole
        big.writer.write(encode_request(77, body))
        echoes = [await client.echo(SEED, f"small {i}") for i in range(5)]
        assert echoes == [f"small {i}" for i in range(5)]
        frame = await big.next_event(wait=30.0)
        assert isinstance(frame, ResponseFrame) and frame.request_id == 77 and frame.status == 40
        assert server.buffered == 0
    finally:
        big.close()
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_large_bodies_are_decoded_in_slices_and_the_calls_behind_them_are_answered_after():
    """Two peers each send a 1 MB valid call, then a small one on the same connection, while a
    third calls as usual: every call is answered, the large ones decoded in slices of the loop."""
    server, _ = await started(bytes_per_turn=64 * 1024)
    peers = [await Raw.open(server.port) for _ in range(2)]
    client = await DubboClient.connect("127.0.0.1", server.port)
    payload = [f"item-{i}" for i in range(100_000)]
    try:
        for peer in peers:
            peer.writer.write(echo_request(1, payload) + echo_request(2, "after"))
        assert [await client.echo(SEED, f"small {i}") for i in range(20)] == [f"small {i}" for i in range(20)]
        for peer in peers:
            answers = {}
            for _ in range(2):
                frame = await peer.next_event(wait=30.0)
                assert isinstance(frame, ResponseFrame) and frame.status == 20
                answers[frame.request_id] = decode_result(frame.body)[1]
            assert answers == {1: payload, 2: "after"}
        assert server.exchange.slicer.slices >= 4
        assert server.buffered == 0
    finally:
        for peer in peers:
            peer.close()
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_streaming_connections_are_read_at_the_bulk_rate_and_small_calls_are_not():
    server, _ = await started(bytes_per_turn=64 * 1024, bulk_read_rate=1 << 20)  # 1 MiB/s for streams
    big = await Raw.open(server.port)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        big.writer.write(echo_request(5, "x" * (3 << 20)))  # 3 MiB: ~3 s at 1 MiB/s
        assert [await client.echo(SEED, f"small {i}") for i in range(50)] == [f"small {i}" for i in range(50)]
        await asyncio.sleep(0.5)
        assert server.buffered > 0  # still arriving: read at the bulk rate, however fast it was sent
        frame = await big.next_event(wait=30.0)
        assert isinstance(frame, ResponseFrame) and frame.request_id == 5 and frame.status == 20
    finally:
        big.close()
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_a_peer_that_never_reads_stops_being_read_and_costs_bounded_memory():
    recommender = Counting()
    server, _ = await started(recommender, write_buffer_limit=64 * 1024, socket_send_buffer=64 * 1024)
    sink = await Raw.open(server.port)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        batch = b"".join(recommend_request(i, f"u{i}") for i in range(200))
        for _ in range(100):  # 20,000 calls, about 20 MB of answers: far more than the buffers hold
            sink.writer.write(batch)
            await asyncio.sleep(0)
        await asyncio.sleep(1.0)
        conn = next(
            c for c in server.connections if c.peer.endswith(str(sink.writer.get_extra_info("sockname")[1]) + ")")
        )
        answered = recommender.calls
        await asyncio.sleep(0.5)
        assert recommender.calls == answered  # held: nothing more is read or answered
        assert conn.transport is not None and not conn._reading
        assert conn.transport.get_write_buffer_size() <= 64 * 1024 + 64 * 1024
        assert answered < 10_000
        assert await client.echo(SEED, "served") == "served"
        # once the peer reads, it gets every answer, in full
        seen = 0
        while seen < 20_000:
            frame = await sink.next_event()
            assert isinstance(frame, ResponseFrame) and frame.status == 20
            seen += 1
    finally:
        sink.close()
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_calls_of_one_connection_beyond_its_inflight_bound_wait_instead_of_failing():
    server, _ = await started(max_inflight_per_connection=4, max_inflight=100)
    client = await DubboClient.connect("127.0.0.1", server.port)
    other = await DubboClient.connect("127.0.0.1", server.port)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, server.inflight)
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    try:
        calls = [call_probe(client, "sleep", [50, str(i)], ["int", "java.lang.String"]) for i in range(40)]
        results = asyncio.gather(*calls)
        await asyncio.sleep(0.1)
        assert await other.echo(SEED, "other") == "other"
        assert await results == [str(i) for i in range(40)]  # none refused with status 100
        assert 1 <= peak <= 4
    finally:
        watcher.cancel()
        await client.close()
        await other.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_a_frame_trickled_slower_than_the_frame_timeout_closes_its_connection():
    server, _ = await started(frame_timeout=0.3)
    slow = await Raw.open(server.port)
    steady = await Raw.open(server.port)
    try:
        frame = echo_request(1, "slow")
        slow.writer.write(frame[:20])
        for i in range(8):  # whole frames, a bit at a time but each within the timeout
            steady.writer.write(echo_request(i, i))
            await asyncio.sleep(0.1)
            if not slow.writer.is_closing():
                with contextlib.suppress(ConnectionError):  # closed by the server meanwhile
                    slow.writer.write(frame[20 + i : 21 + i])  # keeps "reading" alive, never completes
        assert isinstance(await slow.next_event(), ConnectionClosed)
        for i in range(8):
            assert decode_result((await steady.next_event()).body)[1] == i
    finally:
        slow.close()
        steady.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_unfinished_frames_over_the_budget_close_the_biggest_holder():
    server, _ = await started(read_buffer_budget=1 << 20)
    holders = [await Raw.open(server.port) for _ in range(2)]
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        data = encode_request(1, b"x" * (600 << 10))
        holders[0].writer.write(data[: 450 << 10])
        await asyncio.sleep(0.2)
        holders[1].writer.write(data[: 580 << 10])  # 1.01 MiB in all: over the budget
        assert isinstance(await holders[1].next_event(), ConnectionClosed)  # the biggest holder goes
        assert server.buffered == 450 << 10 and len(server.connections) == 2
        holders[0].writer.write(data[450 << 10 :])  # the other one completes its frame
        frame = await holders[0].next_event()
        assert frame.status == 40 and "Decode request failed" in decode_message(frame.body)
        assert await client.echo(SEED, "fine") == "fine"
    finally:
        for holder in holders:
            holder.close()
        await client.close()
        await server.shutdown()
    assert server.buffered == 0 and not server.connections


@pytest.mark.asyncio
async def test_drain_keeps_serving_readonly_ignorers_then_answers_every_request_it_read():
    server, _ = await started(drain_timeout=1.0, drain_quiet=0.2, drain_linger=0.5)
    aware = await DubboClient.connect("127.0.0.1", server.port)
    ignorant = await Raw.open(server.port)
    sent: list[int] = []
    statuses: dict[int, int] = {}
    order: list[str] = []

    async def keep_sending() -> None:
        request_id = 0
        while not ignorant.writer.is_closing():
            request_id += 1
            ignorant.writer.write(echo_request(request_id, request_id))
            sent.append(request_id)
            await asyncio.sleep(0.005)

    async def read_all() -> object:
        while True:
            event = await ignorant.next_event()
            if isinstance(event, ResponseFrame):
                statuses[event.request_id] = event.status
                if event.status == 80 and "80" not in order:
                    order.append("80")
            elif isinstance(event, ConnectionClosed):
                return event
            elif isinstance(event, RequestFrame) and event.is_readonly:
                order.append("readonly")

    sender = asyncio.ensure_future(keep_sending())
    reader = asyncio.ensure_future(read_all())
    try:
        await asyncio.sleep(0.2)
        shutdown = asyncio.ensure_future(server.shutdown())
        assert aware._closed is not None
        await asyncio.wait_for(aware._closed, 10)  # the client's "connection lost" future
        order.append("aware closed")
        end = await asyncio.wait_for(reader, 10)
        await shutdown
    finally:
        sender.cancel()
        ignorant.close()
        await aware.close()
    # READONLY first; the quiet consumer is let go long before the deadline ends the other one
    assert order[:2] == ["readonly", "aware closed"]
    assert isinstance(end, ConnectionClosed) and not end.truncated and not ignorant.reset  # a clean end
    answered_ok = [rid for rid, status in statuses.items() if status == 20]
    assert len(answered_ok) > 100  # served all through the drain (1 s at one call per 5 ms)
    assert set(statuses.values()) <= {20, 80}
    assert all(statuses[rid] == 80 for rid in statuses if rid > max(answered_ok))  # never 20 after an 80
    unanswered = [rid for rid in sent if rid not in statuses]
    assert unanswered == sent[len(sent) - len(unanswered) :]  # only the last ones, sent after the FIN
    assert server.answers_dropped == 0 and server.inflight == 0


@pytest.mark.asyncio
async def test_at_the_deadline_a_request_half_read_is_answered_before_the_connection_ends():
    server, _ = await started(drain_timeout=0.3, drain_quiet=0.1, drain_linger=0.3)
    raw = await Raw.open(server.port)
    frame = echo_request(77, "half")
    raw.writer.write(frame[:30])  # header and a little of the body, then nothing
    await asyncio.sleep(0.1)
    await server.shutdown()
    events = [await raw.next_event() for _ in range(3)]
    raw.close()
    assert isinstance(events[0], RequestFrame) and events[0].is_readonly
    assert isinstance(events[1], ResponseFrame) and (events[1].request_id, events[1].status) == (77, 80)
    assert "not executed" in decode_message(events[1].body)
    assert isinstance(events[2], ConnectionClosed) and not events[2].truncated and not raw.reset
    assert server.answers_dropped == 0 and server.inflight == 0
