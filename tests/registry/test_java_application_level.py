"""A real Dubbo 3.3 consumer finds ``dubbo-recsys serve`` through application-level records only.

The provider registers with ``register-mode=instance`` (no interface-level record at all) and the Java
consumer (tests/registry/java, built by tests/ci/30-nacos.sh) uses migration FORCE_APPLICATION, so the
call succeeds only if the application instance, the MetadataInfo config (with Java's revision) and the
service-name mapping are what Dubbo 3 expects.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.registry.openapi import OpenApi, wait_for
from tests.support import free_port, require_env

pytestmark = [pytest.mark.nacos, pytest.mark.java]

REPO = Path(__file__).resolve().parents[2]


def test_dubbo3_consumer_calls_through_application_level_discovery(tmp_path: Path) -> None:
    addr = require_env("NACOS_ADDR")
    project = Path(require_env("REGISTRY_JAVA_CONSUMER"))
    classpath = f"{project / 'target' / 'classes'}:{(project / 'target' / 'classpath.txt').read_text().strip()}"
    api = OpenApi(addr)
    application = f"recsys-app-{uuid.uuid4().hex[:8]}"
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        provider = subprocess.Popen(
            [sys.executable, "-m", "provider.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--registry", f"nacos://{addr}?register-mode=instance&unregister.wait=0",
             "--application", application, "--no-console"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        deadline = time.monotonic() + 90
        while "listening dubbo://" not in log_path.read_text() and time.monotonic() < deadline:
            assert provider.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        hosts = wait_for(lambda: api.instances(application), bool, 30)
        assert [(h["ip"], h["port"]) for h in hosts] == [("127.0.0.1", port)]
        assert api.instances("providers:com.loki.www.infer.DubbogoInferService::") == [] or all(
            h["port"] != port for h in api.instances("providers:com.loki.www.infer.DubbogoInferService::"))

        java = subprocess.run(
            ["java", "-Ddubbo.network.interface.ignored=.*", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
             "-cp", classpath, "io.dubborecsys.registrytest.AppLevelConsumer", f"nacos://{addr}", "60"],
            capture_output=True, text=True, timeout=150)
        result = [line for line in java.stdout.splitlines() if line.startswith(("RESULT", "FAILED"))]
        assert java.returncode == 0, (result, java.stdout[-3000:], java.stderr[-3000:])
        assert result and "code=200" in result[0] and "class=com.loki.www.infer.RecResponse" in result[0]
    finally:
        provider.send_signal(signal.SIGTERM)
        try:
            provider.wait(timeout=30)
        except subprocess.TimeoutExpired:
            provider.kill()
            provider.wait()
    assert wait_for(lambda: api.instances(application), lambda h: not h, 15) == []
