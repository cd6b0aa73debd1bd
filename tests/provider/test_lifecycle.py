"""Real processes: the ``serve`` command, SIGTERM drain, several workers on one port."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.errors import ConnectionLostError, RemoteStatusError
from tests.provider.probe import call_probe

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening dubbo://127\.0\.0\.1:(\d+)")


def start(*argv: str, lines: list[str] | None = None) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, *argv], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if lines is not None:
            lines.append(line)
        match = LISTENING.search(line)
        if match:
            return proc, int(match.group(1))
    proc.kill()
    raise AssertionError(f"no listening line; stderr: {proc.communicate()[1]}")


def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.asyncio
async def test_sigterm_sends_readonly_and_drains_inflight_calls():
    proc, port = start("-m", "tests.provider.drain_server", "5")
    try:
        client = await DubboClient.connect("127.0.0.1", port)
        slow = asyncio.ensure_future(call_probe(client, "sleep", [2500, "finished"], ["int", "java.lang.String"]))
        await asyncio.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        for _ in range(200):
            if client.readonly:
                break
            await asyncio.sleep(0.01)
        assert client.readonly and not slow.done()  # told before the in-flight call ended
        assert await slow == "finished"
        code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 10)
        assert code == 0
        with pytest.raises(ConnectionRefusedError):  # the listener is gone
            await DubboClient.connect("127.0.0.1", port)
        with pytest.raises(ConnectionLostError):
            await client.echo("com.loki.www.infer.DubbogoInferService", 1)
        await client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None and proc.stderr is not None  # both piped
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.asyncio
async def test_drain_timeout_bounds_shutdown():
    proc, port = start("-m", "tests.provider.drain_server", "0.3")
    try:
        client = await DubboClient.connect("127.0.0.1", port)
        slow = asyncio.ensure_future(
            call_probe(client, "sleep", [10000, "never"], ["int", "java.lang.String"], timeout=20)
        )
        await asyncio.sleep(0.2)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 10)
        assert code == 0 and time.monotonic() - started < 5
        with pytest.raises(RemoteStatusError) as refused:  # answered, not dropped: the consumer may retry it
            await slow
        assert refused.value.status == 80 and "shutting down" in refused.value.message
        with pytest.raises(ConnectionLostError):
            await client.echo("com.loki.www.infer.DubbogoInferService", 1)
        await client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None and proc.stderr is not None  # both piped
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("workers", ["1", "2"])
async def test_serve_command(workers):
    proc, port = start("-m", "dubbo_recsys.provider.cli", "serve", "--port", "0", "--workers", workers)
    try:
        clients = [await DubboClient.connect("127.0.0.1", port) for _ in range(4)]
        for i, client in enumerate(clients):
            response = await client.call(
                "org.dubborecsys.api.RecommendService",
                "recommend",
                [RecommendRequest(userId=f"u{i}", count=1)],
                parameter_types=["org.dubborecsys.api.RecommendRequest"],
                version="1.0.0",
            )
            assert response.code == 200 and len(response.items) == 1
        for client in clients:
            await client.close()
        if workers == "1":
            await asyncio.get_running_loop().run_in_executor(None, check_call_command, port)
    finally:
        assert stop(proc) == 0


def call_command(port: int, *argv: str) -> tuple[int, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "dubbo_recsys.provider.cli", "call", "--port", str(port), *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def check_call_command(port: int) -> None:
    code, answer = call_command(
        port,
        "--version",
        "1.0.0",
        "org.dubborecsys.api.RecommendService",
        "recommend",
        '{"class": "org.dubborecsys.api.RecommendRequest", "userId": "u", "count": 2}',
    )
    assert code == 0 and answer["class"] == "org.dubborecsys.api.RecommendResponse"
    assert [item["itemId"] for item in answer["items"]] == ["item-0001", "item-0002"]
    code, answer = call_command(port, "com.loki.www.infer.DubbogoInferService", "$echo", '[1, "a", {"b": 2.5}]')
    assert (code, answer) == (0, [1, "a", {"b": 2.5}])
    code, answer = call_command(
        port,
        "--generic",
        "--types",
        "com.loki.www.infer.RecRequest",
        "com.loki.www.infer.DubbogoInferService",
        "RecommenderInfer",
        '{"class": "com.loki.www.infer.RecRequest", "userId": "u"}',
    )
    assert code == 0 and answer["code"] == 400
    code, answer = call_command(port, "com.x.Missing", "m")
    assert code == 1 and answer["status"] == 60


def test_serve_rejects_bad_options():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for bad in (["--port", "70000"], ["--payload-limit", "0"], ["--workers", "0"], ["--max-inflight", "-1"]):
        done = subprocess.run(
            [sys.executable, "-m", "dubbo_recsys.provider.cli", "serve", *bad],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2, bad
        assert "dubbo-recsys serve:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.asyncio
@pytest.mark.parametrize("workers", ["1", "2"])
async def test_serve_with_grpc_shim(workers):
    try:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("the grpc extra is not installed")
    lines: list[str] = []
    proc, port = start(
        "-m", "dubbo_recsys.provider.cli", "serve", "--port", "0", "--grpc-port", "0", "--workers", workers, lines=lines
    )
    try:
        (grpc_line,) = [line for line in lines if line.startswith("listening grpc://")]
        grpc_port = int(grpc_line.rsplit(":", 1)[1])
        assert grpc_port not in (0, port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        async with await DubboClient.connect("127.0.0.1", port) as client:
            assert await client.echo("com.loki.www.infer.DubbogoInferService", "both") == "both"
    finally:
        assert stop(proc) == 0
