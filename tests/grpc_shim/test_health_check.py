"""``grpc-health``, the container health check, against a live shim."""

from __future__ import annotations

import asyncio
import sys

import pytest

from dubbo_recsys.provider.grpc_shim import GrpcShim, GrpcShimConfig, health_check
from tests.grpc_shim.recommenders import EchoRecommender
from tests.support import free_port


@pytest.mark.asyncio
async def test_serving_then_draining(capsys: pytest.CaptureFixture[str]) -> None:
    async with GrpcShim(EchoRecommender(), GrpcShimConfig(port=0)) as shim:
        addr = f"127.0.0.1:{shim.port}"
        assert await asyncio.to_thread(health_check.main, ["--addr", addr]) == 0
        assert await asyncio.to_thread(health_check.main, ["--addr", addr, "--service", "RecommenderInferService"]) == 0
        assert await asyncio.to_thread(health_check.main, ["--addr", addr, "--service", "nope"]) == 1
        await shim.set_serving(False)
        assert await asyncio.to_thread(health_check.main, ["--addr", addr]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{addr} '': SERVING"
    assert out[2].startswith(f"{addr} 'nope': NOT_FOUND")
    assert out[3] == f"{addr} '': NOT_SERVING"


def test_nothing_listening_and_bad_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert health_check.main(["--addr", f"127.0.0.1:{free_port()}", "--timeout", "0.5"]) == 1
    line = capsys.readouterr().out.strip()
    assert line.split(": ")[1].split()[0] in ("UNAVAILABLE", "DEADLINE_EXCEEDED"), line
    assert health_check.main(["--timeout", "0"]) == 2


@pytest.mark.asyncio
async def test_runs_as_a_module_like_the_dockerfile_healthcheck() -> None:
    async with GrpcShim(EchoRecommender(), GrpcShimConfig(port=0)) as shim:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dubbo_recsys.provider.grpc_shim.health_check",
            "--addr",
            f"127.0.0.1:{shim.port}",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0
    assert out.decode().strip().endswith("SERVING")
