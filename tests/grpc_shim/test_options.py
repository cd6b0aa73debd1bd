"""The ``--grpc-*`` flags that ``dubbo-recsys serve`` borrows."""

from __future__ import annotations

import argparse

import pytest

from dubbo_recsys.provider.grpc_shim import GrpcShimConfigError, options


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    options.add_arguments(parser)
    return parser.parse_args(argv)


def test_no_grpc_port_means_no_shim() -> None:
    assert options.config_from_args(parse()) is None


def test_flags_become_a_config_and_host_follows_serve() -> None:
    config = options.config_from_args(
        parse("--host", "0.0.0.0", "--grpc-port", "50051", "--grpc-max-concurrent", "7", "--no-grpc-reflection"),
        grace_seconds=2.5,
    )
    assert config is not None
    assert (config.host, config.port, config.max_concurrent_rpcs) == ("0.0.0.0", 50051, 7)
    assert (config.reflection, config.grace_seconds) == (False, 2.5)


def test_grpc_host_overrides_host() -> None:
    config = options.config_from_args(parse("--host", "0.0.0.0", "--grpc-host", "127.0.0.1", "--grpc-port", "0"))
    assert config is not None and config.host == "127.0.0.1"


def test_bad_port_is_a_config_error() -> None:
    with pytest.raises(GrpcShimConfigError, match="port"):
        options.config_from_args(parse("--grpc-port", "70000"))


def test_several_workers_share_the_grpc_port() -> None:
    single = options.config_from_args(parse("--grpc-port", "50051"))
    shared = options.config_from_args(parse("--grpc-port", "50051", "--workers", "2"))
    assert single is not None and shared is not None
    assert (single.reuse_port, shared.reuse_port) == (False, True)
