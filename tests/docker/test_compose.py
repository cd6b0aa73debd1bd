"""docker/compose.yaml: valid for Docker Compose (its own `config` check, no engine
needed), official images for the peers, and a provider that runs `serve` on the
ports it publishes and probes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.docker.manifests import (
    COMPOSE,
    DOCKER,
    check_health_command,
    grpc_port,
    parse_serve,
    serve_has_grpc,
    served_ports,
)
from tests.support import require_env

OFFICIAL_IMAGES = {
    "nacos": "nacos/nacos-server:",
    "redis": "redis:",
    "tfserving": "tensorflow/serving:",
    "prometheus": "prom/prometheus:",
    "grafana": "grafana/grafana:",
}


def compose_config(path: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    compose = require_env("COMPOSE_BIN")
    return subprocess.run(
        [compose, "-f", str(path), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=DOCKER,
        check=False,
    )


def resolved() -> dict[str, Any]:
    result = compose_config()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def unescape(argv: list[str]) -> list[str]:
    """Compose prints ``$$`` (a literal ``$``) escaped; the container sees one ``$``."""
    return [arg.replace("$$", "$") for arg in argv]


def test_compose_accepts_the_file() -> None:
    assert set(resolved()["services"]) == {"nacos", "redis", "tfserving", "provider", "prometheus", "grafana"}


def test_compose_rejects_a_broken_copy(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    ports:\n", "    portz:\n", 1))
    result = compose_config(broken)
    assert result.returncode != 0
    assert "portz" in result.stderr


def test_peers_use_official_images_with_pinned_tags_and_health_checks() -> None:
    services = resolved()["services"]
    for name, prefix in OFFICIAL_IMAGES.items():
        image = services[name]["image"]
        assert image.startswith(prefix) and not image.endswith(":latest"), image
        assert "healthcheck" in services[name], name


def test_provider_runs_serve_on_the_ports_it_publishes_and_probes() -> None:
    provider = resolved()["services"]["provider"]
    args = parse_serve(provider["command"])
    assert args.host == "0.0.0.0"
    assert {int(port["target"]) for port in provider["ports"]} == served_ports(args)
    test = unescape(provider["healthcheck"]["test"])
    assert test[0] == "CMD"
    check_health_command(test[1:], args)
    assert provider["build"]["dockerfile"] == "docker/Dockerfile"


def test_provider_waits_for_healthy_peers_and_has_time_to_drain() -> None:
    provider = resolved()["services"]["provider"]
    depends = provider["depends_on"]
    assert depends["nacos"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert "tfserving" in depends
    args = parse_serve(provider["command"])
    grace = provider["stop_grace_period"]
    assert grace.endswith("s") and float(grace[:-1]) >= args.drain_timeout + 5


def test_provider_runs_the_grpc_shim_once_serve_can() -> None:
    """Fails on the day serve gains --grpc-port until docker/ turns the shim on (docker/README.md)."""
    args = parse_serve(resolved()["services"]["provider"]["command"])
    assert (grpc_port(args) is not None) == serve_has_grpc(), (
        "serve and docker/ disagree on --grpc-port: see docker/README.md, 'Turning on the gRPC shim'"
    )
