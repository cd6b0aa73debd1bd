"""End to end: the Python client against a real server on 127.0.0.1 (same process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct

import pytest
import pytest_asyncio

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.interfaces.seed import RecRequest, RecResponse
from dubbo_recsys.provider.body import decode_message, decode_result, encode_invocation
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ClientConfig, ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher, Invocation
from dubbo_recsys.provider.errors import RemoteApplicationError, RemoteStatusError
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.protocol import (
    NEED_DATA,
    FrameReader,
    ResponseFrame,
    encode_heartbeat_request,
    encode_request,
)
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Server
from tests.provider.probe import INTERFACE as PROBE
from tests.provider.probe import call_probe, probe_export

RECOMMEND = "org.dubborecsys.api.RecommendService"
SEED = "com.loki.www.infer.DubbogoInferService"
REQ_TYPE = "org.dubborecsys.api.RecommendRequest"
SEED_TYPE = "com.loki.www.infer.RecRequest"


async def start_server(**overrides) -> tuple[Server, object]:
    probe_exp, probe = probe_export()
    config = ServerConfig(host="127.0.0.1", port=0, **overrides)
    server = Server(Dispatcher([*default_exports(PopularRecommender()), probe_exp]), config)
    await server.start()
    return server, probe


@pytest_asyncio.fixture
async def served():
    server, probe = await start_server()
    client = await DubboClient.connect("127.0.0.1", server.port, ClientConfig(timeout=5))
    yield server, client, probe
    await client.close()
    await server.shutdown()


class RawConnection:
    """A plain socket speaking frames, for what the client refuses to send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = FrameReader()

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def next_frame(self, timeout: float = 3.0):
        while True:
            event = self.frames.next_event()
            if event is not NEED_DATA:
                return event
            chunk = await asyncio.wait_for(self.reader.read(65536), timeout)
            self.frames.receive_data(chunk)

    async def closed_by_peer(self, timeout: float = 3.0) -> bool:
        data = await asyncio.wait_for(self.reader.read(65536), timeout)
        return data == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def request_body(path, method, descriptor, args, version="0.0.0", attachments=None) -> bytes:
    return encode_invocation(Invocation("2.0.2", path, version, method, descriptor, tuple(args), attachments or {}))


# -- the services -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_echo_on_every_service(served):
    _, client, _ = served
    assert await client.echo(RECOMMEND, "hi", version="1.0.0") == "hi"
    assert await client.echo(SEED, {"a": [1, 2]}) == {"a": [1, 2]}
    assert await client.echo(PROBE, 42, version="1.0", group="test") == 42


@pytest.mark.asyncio
async def test_recommend(served):
    _, client, _ = served
    request = RecommendRequest(userId="u1", scene="home", count=3, exposureList=["item-0001"])
    response = await client.call(RECOMMEND, "recommend", [request], parameter_types=[REQ_TYPE], version="1.0.0")
    assert isinstance(response, RecommendResponse)
    assert response.code == 200 and response.pipeline == "popular" and response.degraded
    assert [item.itemId for item in response.items] == ["item-0002", "item-0003", "item-0004"]
    assert response.items[0].score > response.items[1].score > 0


@pytest.mark.asyncio
async def test_recommend_bad_count_is_code_400(served):
    _, client, _ = served
    request = RecommendRequest(userId="u1", count=0)
    response = await client.call(RECOMMEND, "recommend", [request], parameter_types=[REQ_TYPE], version="1.0.0")
    assert response.code == 400 and "count" in response.message


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["RecommenderInfer", "recommenderInfer"])
async def test_seed_interface(served, method):
    _, client, _ = served
    request = RecRequest(userId="u9", dataId="scene-a", exposureList=["item-0002"])
    response = await client.call(SEED, method, [request], parameter_types=[SEED_TYPE])
    assert isinstance(response, RecResponse)
    assert response.code == 200
    assert response.data[0].startswith("item-0001:") and not any(d.startswith("item-0002:") for d in response.data)
    _item, score = response.data[0].split(":")
    assert float(score) > 0


@pytest.mark.asyncio
async def test_seed_interface_requires_user_and_data_id(served):
    _, client, _ = served
    response = await client.call(SEED, "RecommenderInfer", [RecRequest(userId="u")], parameter_types=[SEED_TYPE])
    assert response.code == 400 and "dataId" in response.message and response.data == []
    response = await client.call(SEED, "RecommenderInfer", [None], parameter_types=[SEED_TYPE])
    assert response.code == 400


@pytest.mark.asyncio
async def test_generic_invoke(served):
    _, client, _ = served
    result = await client.generic_invoke(
        RECOMMEND, "recommend", [REQ_TYPE], [{"class": REQ_TYPE, "userId": "u2", "count": 2}], version="1.0.0"
    )
    assert result["class"] == "org.dubborecsys.api.RecommendResponse"
    assert [item["itemId"] for item in result["items"]] == ["item-0001", "item-0002"]
    assert result["items"][0]["class"] == "org.dubborecsys.api.RecommendItem"


@pytest.mark.asyncio
async def test_generic_invoke_error_is_generic_exception(served):
    _, client, _ = served
    with pytest.raises(RemoteApplicationError) as info:
        await client.generic_invoke(RECOMMEND, "nope", [], [], version="1.0.0")
    assert info.value.exception.java_class == "org.apache.dubbo.rpc.service.GenericException"
    assert info.value.exception.extra["exceptionClass"] == "java.lang.NoSuchMethodException"
    assert "nope" in info.value.exception.extra["exceptionMessage"]


@pytest.mark.asyncio
async def test_unexpected_python_error_is_a_runtime_exception_without_python_internals(served, caplog):
    _, client, _ = served
    with (
        caplog.at_level(logging.ERROR, logger="dubbo_recsys.provider.dispatch"),
        pytest.raises(RemoteApplicationError) as info,
    ):
        await call_probe(client, "fail", ["it broke"], ["java.lang.String"])
    exception = info.value.exception
    assert exception.java_class == "java.lang.RuntimeException"
    assert exception.message.startswith(
        "Internal error in org.dubborecsys.test.Probe.fail(java.lang.String) (error id "
    )
    assert "ValueError" not in exception.message and "it broke" not in exception.message
    assert exception.stack_trace == [] and exception.cause in (None, exception)
    error_id = exception.message.rsplit("error id ", 1)[1].rstrip(")")
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None and "it broke" in str(logged[0].exc_info[1])


@pytest.mark.asyncio
async def test_response_flags_follow_consumer_version(served):
    _server, client, _ = served
    for dubbo_version, expected_flag, expected_attachments in (("2.0.2", 4, {"dubbo": "2.0.2"}), ("2.0.1", 1, {})):
        invocation = Invocation(dubbo_version, SEED, "", "$echo", "Ljava/lang/Object;", ("x",), {})
        frame = await client.request(invocation)
        assert frame.status == 20
        assert decode_result(frame.body) == (expected_flag, "x", expected_attachments)
    frame = await client.request(Invocation("2.0.2", PROBE, "1.0", "nothing", "", (), {"group": "test"}))
    assert decode_result(frame.body) == (5, None, {"dubbo": "2.0.2"})


@pytest.mark.asyncio
async def test_unknown_service_and_method(served):
    _, client, _ = served
    with pytest.raises(RemoteStatusError) as info:
        await client.call("org.x.Missing", "m")
    assert info.value.status == 60 and "org.x.Missing" in info.value.message
    with pytest.raises(RemoteStatusError) as info:
        await client.call(RECOMMEND, "recommend", [], version="1.0.0")
    assert info.value.status == 70
    with pytest.raises(RemoteStatusError) as info:  # right service, no version
        await client.call(RECOMMEND, "recommend", [RecommendRequest(userId="u")], parameter_types=[REQ_TYPE])
    assert info.value.status == 60


# -- the exchange ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_heartbeat(served):
    server, client, _ = served
    assert await client.heartbeat() < 1.0
    raw = await RawConnection.open(server.port)
    await raw.send(encode_heartbeat_request(77))
    frame = await raw.next_frame()
    assert frame == ResponseFrame(77, 2, 20, True, b"N")
    await raw.close()


@pytest.mark.asyncio
async def test_one_way_gets_no_answer(served):
    server, client, _probe = served
    raw = await RawConnection.open(server.port)
    body = request_body(PROBE, "record", "Ljava/lang/String;", ["fire"], "1.0", {"group": "test"})
    await raw.send(encode_request(5, body, two_way=False) + encode_heartbeat_request(6))
    frame = await raw.next_frame()
    assert frame.request_id == 6 and frame.event  # nothing came back for request 5
    await client.call_oneway(
        PROBE, "record", ["forget"], parameter_types=["java.lang.String"], version="1.0", group="test"
    )
    assert await call_probe(client, "recorded") == ["fire", "forget"]
    await raw.close()


@pytest.mark.asyncio
async def test_out_of_order_concurrent_replies(served):
    server, client, _ = served
    raw = await RawConnection.open(server.port)
    frames = b"".join(
        encode_request(
            rid, request_body(PROBE, "sleep", "ILjava/lang/String;", [ms, f"t{rid}"], "1.0", {"group": "test"})
        )
        for rid, ms in ((1, 400), (2, 200), (3, 0))
    )
    await raw.send(frames)
    order = [(await raw.next_frame()).request_id for _ in range(3)]
    assert order == [3, 2, 1]
    await raw.close()
    # and through the client: many concurrent calls on one connection, each gets its own answer
    tags = [f"c{i}" for i in range(50)]
    results = await asyncio.gather(
        *(call_probe(client, "sleep", [(i * 7) % 30, tag], ["int", "java.lang.String"]) for i, tag in enumerate(tags))
    )
    assert results == tags


@pytest.mark.asyncio
async def test_inflight_limit_answers_100():
    server, _ = await start_server(max_inflight=2)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        calls = [
            asyncio.ensure_future(call_probe(client, "sleep", [300, str(i)], ["int", "java.lang.String"]))
            for i in range(3)
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        refused = [r for r in results if isinstance(r, RemoteStatusError)]
        assert len(refused) == 1 and refused[0].status == 100
        assert sorted(r for r in results if isinstance(r, str)) == ["0", "1"]
        assert await call_probe(client, "sleep", [0, "after"], ["int", "java.lang.String"]) == "after"
    finally:
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_payload_limit_answers_25_and_keeps_the_connection():
    server, _ = await start_server(payload_limit=4096)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        with pytest.raises(RemoteStatusError) as info:
            await call_probe(client, "record", ["y" * 10000], ["java.lang.String"])
        assert info.value.status == 25 and "4096" in info.value.message
        with pytest.raises(RemoteStatusError) as info:  # a result over the limit: Java's BAD_RESPONSE
            await call_probe(client, "big", [10000], ["int"])
        assert info.value.status == 50
        assert await call_probe(client, "big", [10], ["int"]) == "x" * 10
    finally:
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_connection_limit_evicts_the_least_recently_active_idle_connection():
    server, _ = await start_server(max_connections=2)
    first = await DubboClient.connect("127.0.0.1", server.port)
    second = await DubboClient.connect("127.0.0.1", server.port)
    try:
        assert await first.echo(SEED, "first") == "first"
        assert await second.echo(SEED, "second") == "second"  # first is now the least recently active
        raw = await RawConnection.open(server.port)
        await raw.send(encode_request(1, request_body(SEED, "$echo", "Ljava/lang/Object;", ["newcomer"])))
        frame = await raw.next_frame()
        assert frame.status == 20 and decode_result(frame.body)[1] == "newcomer"
        assert await second.echo(SEED, "still here") == "still here"
        for _ in range(100):
            if first.is_closed:
                break
            await asyncio.sleep(0.01)
        assert first.is_closed and len(server.connections) == 2
        await raw.close()
    finally:
        await first.close()
        await second.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_connection_limit_refuses_a_newcomer_when_every_connection_is_busy():
    server, _ = await start_server(max_connections=1)
    client = await DubboClient.connect("127.0.0.1", server.port)
    try:
        busy = asyncio.ensure_future(call_probe(client, "sleep", [500, "busy"], ["int", "java.lang.String"]))
        await asyncio.sleep(0.1)
        raw = await RawConnection.open(server.port)
        assert await raw.closed_by_peer()
        await raw.close()
        assert await busy == "busy"
    finally:
        await client.close()
        await server.shutdown()


# -- malformed input never hurts other connections -------------------------------------------------


def _header(flags: int, request_id: int, length: int, magic: int = 0xDABB) -> bytes:
    return struct.pack(">HBBqi", magic, flags, 0, request_id, length)


async def _bad_frame_answers(port: int) -> None:
    good = request_body(SEED, "$echo", "Ljava/lang/Object;", ["x"])

    async def answer_to(data: bytes) -> ResponseFrame:
        raw = await RawConnection.open(port)
        try:
            await raw.send(data)
            return await raw.next_frame()
        finally:
            await raw.close()

    # unknown serialization id -> 40, named
    frame = await answer_to(_header(0xC0 | 9, 1, len(good)) + good)
    assert frame.status == 40 and "9" in decode_message(frame.body)
    # garbage descriptor -> 40
    frame = await answer_to(encode_request(2, request_body(SEED, "$echo", "Lbroken", [])))
    assert frame.status == 40 and "descriptor" in decode_message(frame.body)
    # a body that is not Hessian -> 40
    frame = await answer_to(encode_request(3, b"\xff\xfe\xfd garbage"))
    assert frame.status == 40
    # descriptor promising more arguments than the body holds -> 40
    frame = await answer_to(encode_request(4, request_body(SEED, "$echo", "Ljava/lang/Object;II", ["x"])[:-1]))
    assert frame.status == 40
    # oversized header -> 25, then the connection still answers
    raw = await RawConnection.open(port)
    await raw.send(_header(0xC2, 5, 64 * 1024 * 1024) + b"z" * 1000)
    frame = await raw.next_frame()
    assert frame.request_id == 5 and frame.status == 25
    await raw.close()
    # wrong magic -> closed
    raw = await RawConnection.open(port)
    await raw.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await raw.closed_by_peer()
    await raw.close()
    # truncated frame, then the peer goes away
    raw = await RawConnection.open(port)
    await raw.send(encode_request(6, good)[:-3])
    await raw.close()
    # negative length -> closed
    raw = await RawConnection.open(port)
    await raw.send(_header(0xC2, 7, -1))
    assert await raw.closed_by_peer()
    await raw.close()


@pytest.mark.asyncio
async def test_malformed_frames_while_another_client_keeps_working(served):
    server, client, _ = served
    stop = asyncio.Event()
    done = 0

    async def keep_calling() -> None:
        nonlocal done
        while not stop.is_set():
            assert await client.echo(SEED, done) == done
            done += 1
            await asyncio.sleep(0.002)

    worker = asyncio.ensure_future(keep_calling())
    for _ in range(3):
        before = done
        await _bad_frame_answers(server.port)
        await asyncio.sleep(0.02)
        assert done > before
    stop.set()
    await worker
    assert done > 10
    assert len(server.connections) == 1  # only the good client is left


@pytest.mark.asyncio
async def test_idle_connections_are_closed_but_heartbeats_keep_a_client():
    server, _ = await start_server(idle_timeout=1.0)
    silent = await RawConnection.open(server.port)
    client = await DubboClient.connect("127.0.0.1", server.port, ClientConfig(heartbeat_interval=0.2))
    try:
        assert await silent.closed_by_peer(timeout=5)
        await asyncio.sleep(0.6)
        assert not client.is_closed
        assert await client.echo(SEED, "alive") == "alive"
    finally:
        await silent.close()
        await client.close()
        await server.shutdown()


@pytest.mark.asyncio
async def test_lifecycle_hooks_run_in_order():
    from dubbo_recsys.provider.transport import Lifecycle

    seen = []

    async def registered(server):
        seen.append(("after_listening", server.port > 0))

    async def deregistered(server):
        seen.append(("before_readonly", len(server.connections)))

    probe_exp, _ = probe_export()
    lifecycle = Lifecycle(after_listening=[registered], before_readonly=[deregistered])
    server = Server(Dispatcher([probe_exp]), ServerConfig(host="127.0.0.1", port=0), lifecycle)
    await server.start()
    client = await DubboClient.connect("127.0.0.1", server.port)
    await client.heartbeat()
    await server.shutdown()
    assert seen == [("after_listening", True), ("before_readonly", 1)]
    assert client.readonly
    await client.close()


@pytest.mark.asyncio
async def test_client_timeout_leaves_the_connection_usable(served):
    from dubbo_recsys.provider.errors import RemoteTimeoutError

    _, client, _ = served
    with pytest.raises(RemoteTimeoutError):
        await call_probe(client, "sleep", [500, "late"], ["int", "java.lang.String"], timeout=0.1)
    assert await call_probe(client, "sleep", [0, "fine"], ["int", "java.lang.String"]) == "fine"
    await asyncio.sleep(0.5)  # the late answer arrives for a request nobody waits for: ignored
    assert await client.echo(SEED, "still") == "still"


@pytest.mark.asyncio
async def test_client_refuses_an_answer_over_its_payload_limit(served):
    server, _, _ = served
    client = await DubboClient.connect("127.0.0.1", server.port, ClientConfig(payload_limit=1000))
    try:
        with pytest.raises(RemoteStatusError) as info:
            await call_probe(client, "big", [5000], ["int"])
        assert info.value.status == 90 and "payload limit" in info.value.message
        assert await call_probe(client, "big", [10], ["int"]) == "x" * 10
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_a_failing_after_listening_hook_fails_start_and_closes_the_port():
    from dubbo_recsys.provider.transport import Lifecycle

    ports = []

    async def cannot_start(server):
        ports.append(server.port)
        raise RuntimeError("registry unreachable")

    probe_exp, _ = probe_export()
    server = Server(
        Dispatcher([probe_exp]), ServerConfig(host="127.0.0.1", port=0), Lifecycle(after_listening=[cannot_start])
    )
    with pytest.raises(RuntimeError, match="unreachable"):
        await server.start()
    with pytest.raises(ConnectionRefusedError):  # the listener was closed again
        await asyncio.open_connection("127.0.0.1", ports[0])
