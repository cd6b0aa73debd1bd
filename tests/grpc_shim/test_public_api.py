"""The package's facade: what ``serve`` and other areas import stays put."""
from __future__ import annotations

import provider.grpc_shim as grpc_shim


def test_all_is_exactly_the_public_api() -> None:
    assert sorted(grpc_shim.__all__) == sorted(
        [
            "DEFAULT_PORT", "HEALTH_NAMES", "SEED_SERVICE", "V1_SERVICE",
            "GrpcShim", "GrpcShimConfig", "GrpcShimConfigError", "GrpcShimError",
            "GrpcShimStartError", "RequestShapeError", "start_grpc_shim",
        ]
    )
    for name in grpc_shim.__all__:
        assert hasattr(grpc_shim, name), name


def test_service_names_are_the_wire_names() -> None:
    assert grpc_shim.SEED_SERVICE == "RecommenderInferService"
    assert grpc_shim.V1_SERVICE == "dubborecsys.v1.RecommendService"
    assert grpc_shim.HEALTH_NAMES == ("", "RecommenderInferService", "dubborecsys.v1.RecommendService")
