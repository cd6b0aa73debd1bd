"""The package's facade: what ``serve`` and other areas import stays put."""

from __future__ import annotations

import dubbo_recsys.provider.grpc_shim as grpc_shim


def test_all_is_exactly_the_public_api() -> None:
    assert sorted(grpc_shim.__all__) == sorted(
        [
            "DEFAULT_PORT",
            "HEALTH_NAMES",
            "SEED_SERVICE",
            "V1_SERVICE",
            "GrpcShim",
            "GrpcShimConfig",
            "GrpcShimConfigError",
            "GrpcShimError",
            "GrpcShimStartError",
            "RequestShapeError",
            "run_beside",
            "start_grpc_shim",
        ]
    )
    for name in grpc_shim.__all__:
        assert hasattr(grpc_shim, name), name


def test_service_names_are_the_wire_names() -> None:
    assert grpc_shim.SEED_SERVICE == "RecommenderInferService"
    assert grpc_shim.V1_SERVICE == "dubborecsys.v1.RecommendService"
    assert grpc_shim.HEALTH_NAMES == ("", "RecommenderInferService", "dubborecsys.v1.RecommendService")


def test_cli_modules_import_without_grpc() -> None:
    """`dubbo-recsys --help` must not pay for grpc: options and health_check import it lazily."""
    import subprocess
    import sys

    code = (
        "import sys, dubbo_recsys.provider.grpc_shim.options, dubbo_recsys.provider.grpc_shim.health_check, "
        "dubbo_recsys.provider.grpc_shim as g; "
        "g.GrpcShimConfig(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('grpc', 'google')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_grpc_health_is_a_cli_command() -> None:
    from dubbo_recsys.provider.cli import COMMANDS, build_parser

    assert COMMANDS["grpc-health"][0] == "dubbo_recsys.provider.grpc_shim.health_check"
    args = build_parser().parse_args(["grpc-health", "--addr", "127.0.0.1:1", "--timeout", "0.5"])
    assert args._module.run(args) == 1  # nothing listens on port 1
