"""``dubbo-recsys serve`` processes registered in the test Nacos, as an operator starts them.

Every test module works in a Nacos group of its own (``unique_group``), so the
instances and configs of other tests sharing the server never mix in. Providers
run as real child processes (``tests.java_sample.provider_process.started``): the
tests signal them like an operator or an orchestrator would (SIGTERM, SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from tests.java_sample.provider_process import serve_command
from tests.registry.openapi import OpenApi, wait_for

RECOMMEND = "org.dubborecsys.api.RecommendService"
SEED = "com.loki.www.infer.DubbogoInferService"
#: The names Java's NacosRegistry looks up: providers:<interface>:<version>:<group>.
RECOMMEND_SERVICE = f"providers:{RECOMMEND}:1.0.0:"
SEED_SERVICE = f"providers:{SEED}::"


def unique_group(label: str) -> str:
    return f"e2e-{label}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def registry_url(nacos: str, group: str, unregister_wait_ms: int = 0) -> str:
    return f"nacos://{nacos}?group={group}&unregister.wait={unregister_wait_ms}"


def serve_registered(registry: str, application: str, *extra: str) -> list[str]:
    """``serve`` on 127.0.0.1 and a free port, published in ``registry`` under ``application``."""
    return [*serve_command(), "--registry", registry, "--application", application, *extra]


def ports_listed(api: OpenApi, service: str, group: str) -> set[int]:
    return {int(host["port"]) for host in api.instances(service, group)}


def wait_listed(api: OpenApi, group: str, ports: set[int], seconds: float = 30.0) -> set[int]:
    """Wait until both services list exactly ``ports``; returns what the RecommendService lists."""

    def probe() -> tuple[set[int], set[int]]:
        return ports_listed(api, RECOMMEND_SERVICE, group), ports_listed(api, SEED_SERVICE, group)

    listed = wait_for(probe, lambda got: got[0] == ports and got[1] == ports, seconds)
    return listed[0]


def seconds_until(probe: Any, accept: Any, limit: float, step: float = 0.05) -> float | None:
    """How long until ``accept(probe())`` held (None if not within ``limit`` seconds)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if accept(probe()):
            return time.monotonic() - start
        time.sleep(step)
    return None


@contextlib.contextmanager
def reaping(processes: Sequence[subprocess.Popen[bytes]], step: float = 0.1) -> Iterator[None]:
    """Reap our child providers as soon as they exit, while something else (a JVM) signals them.

    A child that exits stays a zombie until its parent waits for it, and a zombie still looks
    alive to another process's ``kill(pid, 0)`` (Java's ``ProcessHandle.onExit``)."""
    done = threading.Event()

    def reap() -> None:
        while not done.wait(step):
            for process in processes:
                process.poll()

    thread = threading.Thread(target=reap, name="reap-providers", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
