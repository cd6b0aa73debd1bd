"""What the realtime benchmarks share: a Kafka broker, a private Redis, CPU accounting, the load average.

``kafka_broker()`` uses the broker of ``KAFKA_BOOTSTRAP`` when it is set (tests/ci/35-kafka.sh exports
it), else starts one with tests/kafka-server/kafka.sh (KRaft, free ports, a temp home) and stops it
afterwards. ``RedisServer`` is tests/funnel's private ``redis-server``. CPU time is read from /proc
(consumer, broker) and from Redis's ``INFO cpu``: CPU per event hardly depends on what else the
shared machine runs, where wall-clock rates do.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = REPO_ROOT / "tests" / "kafka-server" / "kafka.sh"


def _funnel_bench() -> Any:
    """bench/funnel/run_bench.py, for its /proc CPU reader (one copy of it in the repository)."""
    spec = importlib.util.spec_from_file_location("funnel_run_bench", REPO_ROOT / "bench" / "funnel" / "run_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (``bench/funnel``'s reader)."""
    return float(_funnel_bench().cpu_seconds(pid))


def redis_cpu_seconds(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def kafka_broker() -> Iterator[tuple[str, int | None]]:
    """``(bootstrap, broker pid or None when it is someone else's)``."""
    from tests.support import free_port

    given = os.environ.get("KAFKA_BOOTSTRAP")
    if given:
        yield given, None
        return
    subprocess.run(["bash", str(LAUNCHER), "build"], check=True, timeout=600)
    home = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    port, controller = free_port(), free_port()
    try:
        subprocess.run(["bash", str(LAUNCHER), "start", str(port), str(controller), str(home)], check=True, timeout=120)
        subprocess.run(["bash", str(LAUNCHER), "wait", str(port), "120"], check=True, timeout=130)
        yield f"127.0.0.1:{port}", int((home / "kafka.pid").read_text())
    finally:
        subprocess.run(["bash", str(LAUNCHER), "stop", str(home)], check=False, timeout=60)
        shutil.rmtree(home, ignore_errors=True)
