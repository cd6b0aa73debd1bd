"""``serve --artifacts ... --rest-port``: the REST shim and the console over the real recommendation funnel.

Needs the ML-100K artifact directory (``ARTIFACTS_ML100K``, built by tests/ci/40-artifacts.sh).
One provider process (TensorFlow loads the two-tower user model: ~15 s) serves every check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.rest.test_server import listening_lines
from tests.support import require_env


def test_explain_console_and_metrics_over_the_real_funnel() -> None:
    artifacts = require_env("ARTIFACTS_ML100K")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in ("DUBBO_RECSYS_JWT_SECRET", "DUBBO_RECSYS_SCENES", "REDIS_URL"):
        env.pop(name, None)  # embedded features, default scene
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dubbo_recsys.provider.cli",
            "serve",
            "--port",
            "0",
            "--rest-port",
            "0",
            "--loop",
            "asyncio",
            "--artifacts",
            artifacts,
            "--budget-ms",
            "5000",
            "--trace-every",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = listening_lines(process, 180)
        assert set(lines) == {"http", "dubbo"}, lines
        with httpx.Client(base_url=lines["http"], timeout=30) as http:
            answer = http.get("/recommend", params={"userId": "1", "count": 5, "explain": "true"}).json()
            assert answer["code"] == 200 and len(answer["items"]) == 5
            kinds = [stage["kind"] for stage in answer["explain"] if stage.get("millis") is not None]
            assert "recall" in kinds and kinds.index("recall") < len(kinds) - 1
            recall = next(s for s in answer["explain"] if s["kind"] == "recall")
            assert recall["candidatesOut"] > 5 and recall["top"]
            infer = http.post("/infer", json={"userId": "1", "dataId": "home"}).json()
            assert infer["code"] == 200 and infer["data"]
            state = http.get("/console/state").json()
            metrics = http.get("/metrics").text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert "two_tower" in state["versions"]["models"] and "items" in state["versions"]["indexes"]
    assert state["versions"]["artifacts"][os.path.basename(artifacts.rstrip("/"))]
    assert any(b["state"] == "closed" for b in state["breakers"])
    assert f'stage="{recall["stage"]}"' in metrics and 'dubbo_recsys_stage_seconds_count{kind="recall"' in metrics
    assert 'dubbo_recsys_version_info{kind="models",name="two_tower"' in metrics
