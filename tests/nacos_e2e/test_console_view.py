"""What the Nacos console (and any Open API reader) shows for ``serve --registry nacos://...``.

The provider registers through the SDK's gRPC channel; these tests read the records back
through the HTTP Open API v1, an independent door, and check them against what Java's
NacosRegistry needs and what Java providers publish (INTEROP.md section 3).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.java_sample.provider_process import started
from tests.nacos_e2e.providers import (
    RECOMMEND,
    RECOMMEND_SERVICE,
    SEED,
    SEED_SERVICE,
    ports_listed,
    registry_url,
    seconds_until,
    serve_registered,
    unique_group,
    wait_listed,
)
from tests.registry.openapi import OpenApi
from tests.support import require_env

pytestmark = [pytest.mark.nacos, pytest.mark.timeout(120)]


def test_console_lists_both_services_with_java_provider_metadata(tmp_path: Path) -> None:
    nacos = require_env("NACOS_ADDR")
    api = OpenApi(nacos)
    group = unique_group("console")
    command = serve_registered(registry_url(nacos, group, 300), "e2e-console-app", "--timeout-ms", "2500")
    started_ms = int(time.time() * 1000)
    with started(command, tmp_path / "provider.log") as provider:
        assert wait_listed(api, group, {provider.port}) == {provider.port}, provider.log()
        assert sorted(api.services(group)) == sorted([RECOMMEND_SERVICE, SEED_SERVICE])

        expected = {
            RECOMMEND_SERVICE: (RECOMMEND, {"recommend"}, "1.0.0"),
            SEED_SERVICE: (SEED, {"RecommenderInfer", "recommenderInfer"}, None),
        }
        for service, (interface, methods, version) in expected.items():
            [host] = api.instances(service, group)
            meta = host["metadata"]
            context = f"{service}: {host}"
            assert (host["ip"], host["port"]) == ("127.0.0.1", provider.port), context
            assert host["ephemeral"] and host["healthy"] and host["enabled"], context
            assert host["weight"] == 1.0, context
            assert meta["protocol"] == "dubbo" and meta["category"] == "providers", context
            assert meta["path"] == interface and meta["interface"] == interface, context
            assert set(meta["methods"].split(",")) == methods, context
            assert meta["serialization"] == "hessian2", context
            assert "fastjson2" not in " ".join(meta.values()), context
            assert meta["application"] == "e2e-console-app" and meta["side"] == "provider", context
            assert meta["dubbo"] == "2.0.2" and meta["release"], context
            assert meta["pid"] == str(provider.process.pid), context
            assert started_ms - 60_000 <= int(meta["timestamp"]) <= int(time.time() * 1000), context
            assert meta["timeout"] == "2500" and meta["retries"] == "2", context
            assert int(meta["weight"]) > 0, context
            assert meta.get("enabled", "true") != "false" and meta["deprecated"] == "false", context
            assert meta["dynamic"] == "true" and meta["generic"] == "false", context
            # Version only when set: a "version" key on the seed service would hide it from its consumers.
            assert meta.get("version") == version and "group" not in meta, context

        # SIGTERM: the records go first (deregister before READONLY), the process then exits cleanly.
        provider.process.send_signal(signal.SIGTERM)
        gone = seconds_until(
            lambda: ports_listed(api, RECOMMEND_SERVICE, group) | ports_listed(api, SEED_SERVICE, group),
            lambda ports: not ports,
            15.0,
        )
        assert gone is not None, provider.log()
        assert provider.process.wait(timeout=20) == 0, provider.log()
