"""``GrpcShimConfig`` rejects bad values when built, naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from dubbo_recsys.provider.grpc_shim import GrpcShimConfig, GrpcShimConfigError, GrpcShimError


def test_defaults_listen_on_loopback() -> None:
    config = GrpcShimConfig()
    assert (config.host, config.port, config.address) == ("127.0.0.1", 50051, "127.0.0.1:50051")


def test_ipv6_host_is_bracketed() -> None:
    assert GrpcShimConfig(host="::1", port=1).address == "[::1]:1"


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GrpcShimConfig().port = 1  # type: ignore[misc]  # frozen: the assignment must fail


@pytest.mark.parametrize(
    "fields, name",
    [
        ({"port": -1}, "port"),
        ({"port": 65536}, "port"),
        ({"port": "50051"}, "port"),
        ({"host": ""}, "host"),
        ({"host": "a b"}, "host"),
        ({"host": "bad_host!"}, "host"),
        ({"max_concurrent_rpcs": 0}, "max_concurrent_rpcs"),
        ({"max_message_bytes": 10}, "max_message_bytes"),
        ({"grace_seconds": -1}, "grace_seconds"),
        ({"reflection": "yes"}, "reflection"),
        ({"reuse_port": 1}, "reuse_port"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(fields: dict[str, object], name: str) -> None:
    with pytest.raises(GrpcShimConfigError, match=f"^{name}:") as caught:
        GrpcShimConfig(**fields)  # type: ignore[arg-type]  # bad values on purpose
    assert isinstance(caught.value, GrpcShimError) and isinstance(caught.value, ValueError)
