"""What the Java-consumer registry tests share: ``serve`` registered in a Nacos, and the Dubbo 3.3 consumer.

``registered_provider`` starts ``dubbo-recsys serve`` with ``register-mode=instance`` under its own
application name, waits until it listens, and stops it with SIGTERM at the end (its exit code is then
``provider.returncode``). ``java_consumer`` runs tests/registry/java's ``AppLevelConsumer``
(FORCE_APPLICATION, built by tests/ci/30-nacos.sh, found through ``REGISTRY_JAVA_CONSUMER``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support import require_env

REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def registered_provider(registry_url: str, application: str, port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    """``serve`` on 127.0.0.1:``port`` registered at ``registry_url`` (which must carry its query string)."""
    with open(log_path, "w") as log:
        provider = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dubbo_recsys.provider.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--registry",
                registry_url + "&register-mode=instance",
                "--application",
                application,
                "--no-console",
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
    try:
        deadline = time.monotonic() + 90
        while "listening dubbo://" not in log_path.read_text() and time.monotonic() < deadline:
            assert provider.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        yield provider
    finally:
        provider.send_signal(signal.SIGTERM)
        try:
            provider.wait(timeout=30)
        except subprocess.TimeoutExpired:
            provider.kill()
            provider.wait()


def java_consumer(registry_url: str, seconds: int) -> tuple[int, str, str]:
    """The consumer with Dubbo's own ``nacos://`` registry URL, calling for at most ``seconds``.

    Dubbo hands the URL's ``username``/``password`` to its Nacos client as they are (no percent-decoding), so
    users given to it need URL-safe passwords. Returns (exit code, the RESULT/FAILED line or "", all output).
    """
    project = Path(require_env("REGISTRY_JAVA_CONSUMER"))
    classpath = f"{project / 'target' / 'classes'}:{(project / 'target' / 'classpath.txt').read_text().strip()}"
    java = subprocess.run(
        [
            "java",
            "-Ddubbo.network.interface.ignored=.*",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            classpath,
            "io.dubborecsys.registrytest.AppLevelConsumer",
            registry_url,
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 90,
        check=False,
    )
    result = [line for line in java.stdout.splitlines() if line.startswith(("RESULT", "FAILED"))]
    return java.returncode, (result or [""])[0], java.stdout + java.stderr
