"""``dubbo-recsys serve --app``: a user's services with the command's features, and its defaults."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from dubbo_recsys.provider.cli import build_parser
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.errors import RemoteApplicationError
from dubbo_recsys.provider.settings import apply
from hessian2 import Long
from tests.provider.contract_sample import Node
from tests.provider.test_lifecycle import REPO, start, stop
from tests.support import free_port

APP = "tests.provider.contract_sample:Sample"
SAMPLE = "org.dubborecsys.test.contract.SampleService"


async def get(port: int, id: int) -> object:
    async with await DubboClient.connect("127.0.0.1", port) as client:
        return await client.call(SAMPLE, "get", [Long(id)], parameter_types=["long"], version="1.0.0", group="g")


@pytest.mark.asyncio
@pytest.mark.parametrize("workers", ["1", "2"])
async def test_serve_app_in_one_or_several_workers(workers: str) -> None:
    lines: list[str] = []
    rest_port = free_port()
    cli = ("-m", "dubbo_recsys.provider.cli", "serve", "--app", APP, "--host", "127.0.0.1", "--port", "0")
    proc, port = start(*cli, "--workers", workers, "--rest-port", str(rest_port), lines=lines)
    try:
        assert f"exported {SAMPLE}:1.0.0 group=g methods=get,put,ids,primitives,blob,totals,tagged,lookup\n" in lines
        assert not any(line.startswith("published as") for line in lines)  # bound to one address: no anyhost
        for _ in range(4):  # connections spread over the workers
            node = await get(port, 3)
            assert isinstance(node, Node) and node.name == "n3"
        with pytest.raises(RemoteApplicationError) as info:
            await get(port, 404)
        assert info.value.exception.java_class == "org.dubborecsys.test.contract.NotFoundException"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{rest_port}") as http:  # the operator's surface
            assert (await http.get("/readyz")).status_code == 200
            metrics = (await http.get("/metrics")).text
            assert f'interface="{SAMPLE}",method="get",protocol="dubbo",status="ok"' in metrics
            assert f'interface="{SAMPLE}",method="get",protocol="dubbo",status="exception"' in metrics
    finally:
        assert stop(proc) == 0


def test_serve_defaults_bind_every_interface_and_publish_this_host() -> None:
    parser = build_parser()
    serve = parser.get_default("_commands")["serve"]
    apply("serve", serve, None, environ={})  # no DUBBO_RECSYS_SERVE_HOST: the real default
    args = parser.parse_args(["serve"])
    assert (args.host, args.application, args.retries) == ("0.0.0.0", "", 2)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--app", "tests.provider.contract_sample:Nothing"], "has no attribute 'Nothing'"),
        (["--app", "no_such_module_here:x"], "no module named 'no_such_module_here'"),
        (["--app", APP, "--grpc-port", "0"], "--grpc-port configure the built-in recommender"),
        (["--app", APP, "--artifacts", str(REPO)], "--artifacts configure the built-in recommender"),
    ],
)
def test_serve_app_refuses_what_cannot_run(argv: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dubbo_recsys.provider.cli", "serve", "--port", "0", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
