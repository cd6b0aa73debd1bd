"""The facades' ``__all__`` resolve, and importing them stays cheap (the CLI imports them for --help)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import dubbo_recsys.provider.observability as observability
import dubbo_recsys.provider.rest as rest
from dubbo_recsys.provider.observability.logs import configure_json_logs, request_id


def test_every_public_name_resolves() -> None:
    for module in (observability, rest):
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_importing_the_facades_and_the_cli_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, dubbo_recsys.provider.rest, dubbo_recsys.provider.observability, "
        "dubbo_recsys.provider.rest.options, dubbo_recsys.provider.cli;"
        "dubbo_recsys.provider.cli.build_parser();"
        "heavy = ('fastapi', 'starlette', 'uvicorn', 'jwt', 'prometheus_client', 'opentelemetry', 'pydantic');"
        "print([m for m in sys.modules if m.split('.')[0] in heavy])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


def test_json_logs_are_one_object_per_line_with_the_request_id(capsys) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        import io

        stream = io.StringIO()
        configure_json_logs(logging.INFO, stream)
        token = request_id.set("req-42")
        logging.getLogger("tests.json").info("hello %s", "world", extra={"scene": "home"})
        request_id.reset(token)
        logging.getLogger("tests.json").info("outside")
        first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
    assert first["message"] == "hello world" and first["requestId"] == "req-42" and first["scene"] == "home"
    assert first["logger"] == "tests.json" and first["ts"].endswith("Z")
    assert "requestId" not in second
