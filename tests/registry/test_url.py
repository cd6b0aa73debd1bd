"""Registry URL parsing: what is accepted, and that every mistake gets an error naming it."""

from __future__ import annotations

import pytest

from dubbo_recsys.registry import NacosSettings, RegistryError, RegistryURLError, parse_registry_url


@pytest.mark.parametrize("text", [None, "", "  ", "none", "NONE", "N/A", "direct"])
def test_no_registry(text: str | None) -> None:
    assert parse_registry_url(text) is None


def test_defaults() -> None:
    settings = parse_registry_url("nacos://127.0.0.1:8848")
    assert settings == NacosSettings(addresses=("127.0.0.1:8848",))
    assert (settings.namespace, settings.group, settings.unregister_wait) == ("", "DEFAULT_GROUP", 10.0)
    assert settings.namespace_or_public == "public"


def test_port_defaults_to_8848_and_hosts_join() -> None:
    settings = parse_registry_url("nacos://nacos-a,nacos-b:9000/?backup=10.0.0.3,[::1]:8850")
    assert settings is not None
    assert settings.addresses == ("nacos-a:8848", "nacos-b:9000", "10.0.0.3:8848", "[::1]:8850")
    assert settings.server_addresses == "nacos-a:8848,nacos-b:9000,10.0.0.3:8848,[::1]:8850"


def test_all_parameters() -> None:
    settings = parse_registry_url(
        "nacos://127.0.0.1:8848?namespace=dev-1&group=RECSYS&username=nacos&password=p%26ss%3Dw&unregister.wait=2500"
    )
    assert settings is not None
    assert (settings.namespace, settings.group, settings.username, settings.password) == (
        "dev-1",
        "RECSYS",
        "nacos",
        "p&ss=w",
    )
    assert settings.unregister_wait == 2.5


def test_password_is_not_in_repr() -> None:
    settings = parse_registry_url("nacos://h:1?username=u&password=secret")
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("zookeeper://127.0.0.1:2181", "scheme 'zookeeper' is not supported"),
        ("127.0.0.1:8848", "has no scheme"),
        ("nacos://", "empty Nacos address"),
        ("nacos://:8848", "has no host"),
        ("nacos://127.0.0.1:88a8", "port '88a8'"),
        ("nacos://127.0.0.1:0", "out of range"),
        ("nacos://127.0.0.1:65000", "gRPC uses port + 1000"),
        ("nacos://bad_host!:8848", "not a host name"),
        ("nacos://127.0.0.1:8848/path", "has a path"),
        ("nacos://u:p@127.0.0.1:8848", "credentials"),
        ("nacos://127.0.0.1:8848?namespce=dev", "unknown registry parameter 'namespce'"),
        ("nacos://127.0.0.1:8848?group=a&group=b", "given twice"),
        ("nacos://127.0.0.1:8848?group", "has no value"),
        ("nacos://127.0.0.1:8848?username=u", "username and password go together"),
        ("nacos://127.0.0.1:8848?unregister.wait=1.5", "whole milliseconds"),
        ("nacos://127.0.0.1:8848?unregister.wait=99999999", "[0, 3600]"),
        ("nacos://127.0.0.1:8848?namespace=a%20b", "namespace 'a b'"),
        ("nacos://127.0.0.1:8848?group=x/y", "group 'x/y'"),
    ],
)
def test_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(RegistryURLError) as info:
        parse_registry_url(text)
    assert fragment in str(info.value)
    assert isinstance(info.value, RegistryError) and isinstance(info.value, ValueError)


def test_password_is_redacted_from_errors() -> None:
    with pytest.raises(RegistryURLError) as info:
        parse_registry_url("127.0.0.1:8848?password=hunter2")
    assert "hunter2" not in str(info.value)


def test_not_a_string() -> None:
    with pytest.raises(RegistryURLError, match="must be a string"):
        parse_registry_url(8848)  # type: ignore[arg-type]  # not a string, on purpose


def test_settings_validate_directly() -> None:
    with pytest.raises(RegistryURLError, match="at least one"):
        NacosSettings(addresses=())
    with pytest.raises(RegistryURLError, match="request_timeout"):
        NacosSettings(addresses=("h:1",), request_timeout=0)


def test_redact_registry_url_for_logs() -> None:
    from dubbo_recsys.registry import redact_registry_url

    assert redact_registry_url("nacos://h:1?username=u&password=p%26ss&group=g") == (
        "nacos://h:1?username=u&password=***&group=g"
    )
    assert redact_registry_url("nacos://u:s3cret@h:1?group=g") == "nacos://u:***@h:1?group=g"
    assert redact_registry_url("nacos://h:1?namespace=dev") == "nacos://h:1?namespace=dev"
