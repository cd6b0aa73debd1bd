"""RestShimConfig, JwtConfig and the serve flags: bad values fail at start-up, naming the field."""

from __future__ import annotations

import argparse

import pytest

from dubbo_recsys.provider.observability import ObservabilityConfigError
from dubbo_recsys.provider.rest import JwtConfig, RestShimConfig, RestShimConfigError, RestUser, options, parse_users

SECRET = "x" * 32


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"host": ""}, "host"),
        ({"host": "a b"}, "host"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"max_body_bytes": 10}, "max_body_bytes"),
        ({"jwt": "secret"}, "jwt"),
    ],
)
def test_bad_shim_values_name_their_field(kwargs, field) -> None:
    with pytest.raises(RestShimConfigError, match=field):
        RestShimConfig(**kwargs)


def test_jwt_needs_a_long_secret_and_unique_users() -> None:
    with pytest.raises(RestShimConfigError, match="32 bytes"):
        JwtConfig(secret="short")
    with pytest.raises(RestShimConfigError, match="twice"):
        JwtConfig(secret=SECRET, users=(RestUser("a", "password1"), RestUser("a", "password2")))
    with pytest.raises(RestShimConfigError, match="ttl"):
        JwtConfig(secret=SECRET, ttl_seconds=5)


def test_users_parse_with_a_default_role_and_refuse_bad_entries() -> None:
    users = parse_users("alice:alice-password:admin, bob:bob-password")
    assert [(u.name, u.role) for u in users] == [("alice", "admin"), ("bob", "user")]
    for bad in ("alice", "alice:short", "alice:long-enough:root", "a:b:c:d"):
        with pytest.raises(RestShimConfigError):
            parse_users(bad)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    options.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_rest_port_means_no_rest(monkeypatch) -> None:
    monkeypatch.delenv(options.SECRET_ENV, raising=False)
    assert options.config_from_args(_args()) is None


def test_flags_become_a_config_and_secrets_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(options.SECRET_ENV, SECRET)
    monkeypatch.setenv(options.USERS_ENV, "ops:ops-password:admin")
    config = options.config_from_args(_args("--rest-port", "0", "--host", "10.0.0.1", "--trace-every", "4"))
    assert config is not None and (config.host, config.port) == ("10.0.0.1", 0)
    assert config.jwt is not None and config.jwt.secret == SECRET
    assert [u.name for u in config.jwt.users] == ["ops"] and config.observability.trace_every == 4
    monkeypatch.delenv(options.SECRET_ENV)
    monkeypatch.delenv(options.USERS_ENV)
    off = options.config_from_args(_args("--rest-port", "8080", "--rest-host", "127.0.0.2"))
    assert off is not None and off.jwt is None and off.host == "127.0.0.2"


def test_inconsistent_flags_are_refused(monkeypatch) -> None:
    monkeypatch.delenv(options.SECRET_ENV, raising=False)
    monkeypatch.delenv(options.OTLP_ENV, raising=False)
    with pytest.raises(RestShimConfigError, match="no JWT secret"):
        options.config_from_args(_args("--rest-port", "0", "--rest-users", "a:password1"))
    config = options.config_from_args(_args("--rest-port", "0", "--workers", "2"))
    assert config is not None and config.port == 0  # serve reserves one port for every worker
    with pytest.raises(RestShimConfigError, match="otlp_endpoint"):
        options.config_from_args(_args("--rest-port", "0", "--otlp-endpoint", "localhost:4318"))
    with pytest.raises(RestShimConfigError, match="trace_every"):
        options.config_from_args(_args("--rest-port", "0", "--trace-every", "-1"))
    assert issubclass(ObservabilityConfigError, ValueError)
