"""A real Dubbo 3.3 consumer finds ``dubbo-recsys serve`` through application-level records only.

The provider registers with ``register-mode=instance`` (no interface-level record at all) and the Java
consumer (tests/registry/java, built by tests/ci/30-nacos.sh) uses migration FORCE_APPLICATION, so the
call succeeds only if the application instance, the MetadataInfo config (with Java's revision) and the
service-name mapping are what Dubbo 3 expects.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.registry.java_consumer import java_consumer, registered_provider
from tests.registry.openapi import OpenApi, wait_for
from tests.support import free_port, require_env

pytestmark = [pytest.mark.nacos, pytest.mark.java]


def test_dubbo3_consumer_calls_through_application_level_discovery(tmp_path: Path) -> None:
    addr = require_env("NACOS_ADDR")
    require_env("REGISTRY_JAVA_CONSUMER")  # before starting anything
    api = OpenApi(addr)
    application = f"recsys-app-{uuid.uuid4().hex[:8]}"
    port = free_port()
    with registered_provider(f"nacos://{addr}?unregister.wait=0", application, port, tmp_path / "serve.log"):
        hosts = wait_for(lambda: api.instances(application), bool, 30)
        assert [(h["ip"], h["port"]) for h in hosts] == [("127.0.0.1", port)]
        assert api.instances("providers:com.loki.www.infer.DubbogoInferService::") == [] or all(
            h["port"] != port for h in api.instances("providers:com.loki.www.infer.DubbogoInferService::")
        )

        code, result, output = java_consumer(f"nacos://{addr}", 60)
        assert code == 0, (result, output[-3000:])
        assert result and "code=200" in result and "class=com.loki.www.infer.RecResponse" in result
    assert wait_for(lambda: api.instances(application), lambda h: not h, 15) == []
