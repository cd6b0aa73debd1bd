"""The shim on real sockets beside a real dubbo:// server: lifecycle, drain, metrics, the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.rest import RestShim, RestShimConfig, RestShimError, RestShimStartError
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Lifecycle, Server

REQUEST_TYPE = "org.dubborecsys.api.RecommendRequest"


def _provider() -> tuple[Server, RestShim, Lifecycle]:
    recommender = PopularRecommender()
    exports = default_exports(recommender)
    lifecycle = Lifecycle()
    shim = RestShim(recommender, RestShimConfig(port=0), exports).attach(lifecycle)
    server = Server(Dispatcher(exports), ServerConfig(host="127.0.0.1", port=0, drain_timeout=1), lifecycle)
    return server, shim, lifecycle


@pytest.mark.asyncio
async def test_calls_over_dubbo_and_rest_show_in_metrics_and_the_console_state() -> None:
    server, shim, _ = _provider()
    await server.start()
    port = server.port
    try:
        async with await DubboClient.connect("127.0.0.1", port) as client:
            for user in ("u1", "u2", "u3"):
                await client.call(
                    INTERFACE,
                    "recommend",
                    [RecommendRequest(userId=user, count=2)],
                    parameter_types=[REQUEST_TYPE],
                    version=VERSION,
                )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{shim.port}", timeout=5) as http:
            assert (await http.get("/recommend", params={"userId": "u1"})).status_code == 200
            assert (await http.post("/recommend", json={})).status_code == 422
            metrics = (await http.get("/metrics")).text
            state = (await http.get("/console/state")).json()
    finally:
        await server.shutdown()
    assert (
        'dubbo_recsys_requests_total{interface="org.dubborecsys.api.RecommendService",method="recommend",'
        'protocol="dubbo",status="ok"} 3.0'
    ) in metrics
    assert (
        'dubbo_recsys_requests_total{interface="/recommend",method="GET",protocol="rest",status="200"} 1.0' in metrics
    )
    assert (
        'dubbo_recsys_requests_total{interface="/recommend",method="POST",protocol="rest",status="422"} 1.0' in metrics
    )
    assert (
        'dubbo_recsys_request_seconds_count{interface="org.dubborecsys.api.RecommendService",'
        'method="recommend",protocol="dubbo"} 3.0'
    ) in metrics
    assert 'dubbo_recsys_phase{phase="serving"} 1.0' in metrics
    assert 'dubbo_recsys_registry_state{registry="none",state="direct"} 1.0' in metrics
    rows = {(r["protocol"], r["method"]): r for r in state["methods"]}
    assert rows[("dubbo", "recommend")]["calls"] == 3 and rows[("dubbo", "recommend")]["qps"] > 0
    assert {s["interface"] for s in state["services"]} == {INTERFACE, "com.loki.www.infer.DubbogoInferService"}
    assert state["dubboAddress"] == f"127.0.0.1:{port}"


@pytest.mark.asyncio
async def test_readyz_turns_503_while_dubbo_drains_then_http_stops() -> None:
    server, shim, lifecycle = _provider()
    seen: list[int] = []

    async def probe(_server: object) -> None:  # runs after the shim's own drain hook
        async with httpx.AsyncClient(timeout=5) as http:
            seen.append((await http.get(f"http://127.0.0.1:{shim.port}/readyz")).status_code)

    lifecycle.before_readonly.append(probe)
    await server.start()
    port = shim.port
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    await server.shutdown()
    assert seen == [503]
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as http:
            await http.get(f"http://127.0.0.1:{port}/healthz")
    assert shim.state.phase.value == "stopped"


@pytest.mark.asyncio
async def test_a_taken_port_fails_start_with_our_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        shim = RestShim(PopularRecommender(), RestShimConfig(port=holder.getsockname()[1]))
        with pytest.raises(RestShimStartError, match="cannot bind"):
            await shim.start()
    with pytest.raises(RestShimError, match="not started"):
        _ = shim.port


def listening_lines(process: subprocess.Popen, timeout: float) -> dict[str, str]:
    """Read stdout up to the ``listening dubbo://`` line; the process is killed if it takes too long."""
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    found: dict[str, str] = {}
    assert process.stdout is not None  # piped
    try:
        for line in process.stdout:
            if line.startswith("listening "):
                scheme, _, rest = line.strip().removeprefix("listening ").partition("://")
                found[scheme] = f"{scheme}://{rest}"
                if scheme == "dubbo":
                    break
    finally:
        watchdog.cancel()
    return found


def test_serve_with_rest_port_serves_http_logs_json_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("DUBBO_RECSYS_JWT_SECRET", "DUBBO_RECSYS_ARTIFACTS", "DUBBO_RECSYS_SCENES"):
        env.pop(name, None)  # the popularity list: nothing to load
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dubbo_recsys.provider.cli",
            "serve",
            "--port",
            "0",
            "--rest-port",
            "0",
            "--loop",
            "asyncio",
            "--json-logs",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None  # both piped
    try:
        lines = listening_lines(process, 60)
        assert set(lines) == {"http", "dubbo"}, (lines, process.stderr.read() if process.poll() else "")
        base = lines["http"]
        assert httpx.get(f"{base}/readyz", timeout=5).json() == {"ready": True, "phase": "serving"}
        answer = httpx.get(
            f"{base}/recommend",
            params={"userId": "u1", "count": 2},
            timeout=5,
            headers={"X-Request-Id": "e2e-request-1"},
        )
        assert len(answer.json()["items"]) == 2 and answer.headers["x-request-id"] == "e2e-request-1"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        logged = [json.loads(line) for line in process.stderr.read().splitlines() if line.startswith("{")]
        access = [entry for entry in logged if entry.get("requestId") == "e2e-request-1"]
        assert access and access[0]["http.path"] == "/recommend" and access[0]["http.status"] == 200
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.mark.asyncio
async def test_registry_state_follows_the_registry_hooks_whatever_the_wiring_order() -> None:
    recommender = PopularRecommender()
    exports = default_exports(recommender)
    lifecycle = Lifecycle()
    shim = RestShim(recommender, RestShimConfig(port=0), exports, registry_url="nacos://127.0.0.1:8848?group=x")
    shim.attach(lifecycle)  # attached before the registry's hooks, as serve wires it
    seen: dict[str, tuple[str, str]] = {}

    async def register(_server: object) -> None:
        seen["register"] = (shim.state.registry_state.value, shim.state.phase.value)

    async def deregister(_server: object) -> None:
        seen["deregister"] = (shim.state.registry_state.value, shim.state.phase.value)

    lifecycle.after_listening.append(register)
    lifecycle.before_readonly.append(deregister)
    server = Server(Dispatcher(exports), ServerConfig(host="127.0.0.1", port=0, drain_timeout=1), lifecycle)
    await server.start()
    after_start = (shim.state.registry_state.value, shim.state.phase.value)
    await server.shutdown()
    assert seen["register"] == ("pending", "starting")
    assert after_start == ("registered", "serving")
    assert seen["deregister"] == ("registered", "draining")
    assert (shim.state.registry_state.value, shim.state.phase.value) == ("withdrawn", "stopped")
    assert shim.state.registry_url == "nacos://127.0.0.1:8848"


@pytest.mark.asyncio
async def test_the_listening_socket_turns_nagle_off_for_every_connection() -> None:
    # uvicorn writes a head and a body per answer; with Nagle on, every answer after the
    # first on a keep-alive connection waited ~40 ms for the client's delayed ACK
    async with RestShim(PopularRecommender(), RestShimConfig(port=0)) as shim:
        assert shim._socket is not None
        assert shim._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{shim.port}", timeout=5) as http:
            answers = [await http.get("/healthz") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
