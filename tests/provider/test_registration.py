"""``serve --registry``: records in a real Nacos while serving, gone after SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from dubbo_recsys.provider.errors import ConfigError
from dubbo_recsys.provider.registration import ADVERTISE_ENV, RegistrationSettings, advertised_host
from dubbo_recsys.provider.version import METADATA_KEY, package_version
from tests.provider.test_lifecycle import start, stop
from tests.support import require_env


def test_advertised_host(monkeypatch):
    assert advertised_host("127.0.0.1") == ("127.0.0.1", False)
    assert advertised_host("127.0.0.1", "10.1.2.3") == ("10.1.2.3", False)
    assert advertised_host("0.0.0.0", "10.1.2.3") == ("10.1.2.3", True)
    monkeypatch.setenv(ADVERTISE_ENV, "192.0.2.7")
    assert advertised_host("0.0.0.0") == ("192.0.2.7", True)
    monkeypatch.delenv(ADVERTISE_ENV)
    host, anyhost = advertised_host("::")
    assert anyhost and host not in ("::", "0.0.0.0", "")


def test_settings_validation():
    assert not RegistrationSettings("none").enabled
    assert RegistrationSettings("nacos://127.0.0.1:8848").enabled
    for bad in (dict(url=""), dict(url="none", application="two words"), dict(url="none", timeout_ms=0)):
        with pytest.raises(ConfigError):
            RegistrationSettings(**bad)


def test_bad_registry_url_is_a_usage_error():
    import subprocess
    import sys

    from tests.provider.test_lifecycle import REPO

    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "dubbo_recsys.provider.cli", "serve", "--registry", "zookeeper://x:1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "dubbo-recsys serve:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_serve_registers_in_nacos_and_withdraws_on_sigterm():
    from tests.registry.openapi import OpenApi, wait_for

    addr = require_env("NACOS_ADDR")
    api = OpenApi(addr)
    application = f"provider-test-{os.getpid()}"
    proc, port = start(
        "-m",
        "dubbo_recsys.provider.cli",
        "serve",
        "--port",
        "0",
        "--application",
        application,
        "--registry",
        f"nacos://{addr}?unregister.wait=0",
    )
    ours = {
        "providers:org.dubborecsys.api.RecommendService:1.0.0:": "recommend",
        "providers:com.loki.www.infer.DubbogoInferService::": "RecommenderInfer,recommenderInfer",
    }

    def mine(service: str) -> list[dict]:
        return [h for h in api.instances(service) if h["port"] == port and h["ip"] == "127.0.0.1"]

    try:
        for service, methods in ours.items():
            hosts = await asyncio.to_thread(wait_for, lambda s=service: mine(s), bool, 20)
            assert len(hosts) == 1, service
            metadata = hosts[0]["metadata"]
            assert metadata["methods"] == methods and metadata["application"] == application
            assert metadata["protocol"] == "dubbo" and metadata["timeout"] == "3000"
            assert metadata[METADATA_KEY] == package_version()  # which release of ours answers
    finally:
        assert stop(proc) == 0
    for service in ours:
        left = await asyncio.to_thread(wait_for, lambda s=service: mine(s), lambda hosts: not hosts, 20)
        assert left == [], service


@pytest.mark.asyncio
async def test_an_unreachable_registry_does_not_hold_the_provider():
    """Nacos down: serve anyway after the startup wait, keep retrying, stop cleanly."""
    import importlib.util
    import time

    if importlib.util.find_spec("v2") is None:  # the registry's SDK (nacos extra); not imported here
        if os.environ.get("CI"):
            pytest.fail("the nacos extra is not installed")
        pytest.skip("the nacos extra is not installed")

    from tests.support import free_port

    started_at = time.monotonic()
    secret = "s3cret-Passw0rd"
    proc, port = start(
        "-m",
        "dubbo_recsys.provider.cli",
        "serve",
        "--port",
        "0",
        "--registry",
        f"nacos://127.0.0.1:{free_port()}?unregister.wait=0&username=ops&password={secret}",
    )
    try:
        assert time.monotonic() - started_at < 15
        from dubbo_recsys.provider.client import DubboClient

        async with await DubboClient.connect("127.0.0.1", port) as client:
            assert await client.echo("com.loki.www.infer.DubbogoInferService", "up") == "up"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, logged = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0
    assert "is slow: serving now" in logged and "password=***" in logged  # the log names the registry ...
    assert secret not in logged  # ... without its password
