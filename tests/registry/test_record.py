"""ExportedService validation and the Nacos spelling Java's NacosRegistry expects (no server needed)."""

from __future__ import annotations

import pytest

from dubbo_recsys.registry import ExportedService, ServiceRecordError, instance_metadata, provider_url, service_name


def make(**overrides: object) -> ExportedService:
    fields: dict[str, object] = dict(
        interface="com.loki.www.infer.DubbogoInferService",
        methods=("RecommenderInfer", "recommenderInfer"),
        host="10.1.2.3",
        port=10000,
        application="recsys",
    )
    fields.update(overrides)
    return ExportedService(**fields)  # type: ignore[arg-type]  # fields of any type, overridden per test


def test_service_name_keeps_empty_segments() -> None:
    assert service_name(make()) == "providers:com.loki.www.infer.DubbogoInferService::"
    assert service_name(make(version="1.0.0")) == "providers:com.loki.www.infer.DubbogoInferService:1.0.0:"
    assert service_name(make(group="g1")) == "providers:com.loki.www.infer.DubbogoInferService::g1"
    assert service_name(make(version="2", group="g")) == "providers:com.loki.www.infer.DubbogoInferService:2:g"


def test_version_0_0_0_means_none() -> None:
    assert make(version="0.0.0").version == ""


def test_metadata_is_what_java_writes() -> None:
    metadata = instance_metadata(make(timeout_ms=3000), timestamp_ms=1700000000123, pid=4242)
    assert metadata == {
        "protocol": "dubbo",
        "path": "com.loki.www.infer.DubbogoInferService",
        "interface": "com.loki.www.infer.DubbogoInferService",
        "category": "providers",
        "side": "provider",
        "application": "recsys",
        "methods": "RecommenderInfer,recommenderInfer",
        "dubbo": "2.0.2",
        "release": "3.3.0",
        "timestamp": "1700000000123",
        "pid": "4242",
        "timeout": "3000",
        "retries": "2",
        "weight": "100",
        "anyhost": "false",
        "dynamic": "true",
        "deprecated": "false",
        "generic": "false",
        "serialization": "hessian2",
        "prefer.serialization": "hessian2",
    }
    assert "version" not in metadata and "group" not in metadata
    assert not any("fastjson" in value for value in metadata.values())


def test_version_group_and_params_appear_when_set() -> None:
    metadata = instance_metadata(
        make(version="1.0", group="a", anyhost=True, params={"token": "t", "release": "x"}), timestamp_ms=1, pid=2
    )
    assert (metadata["version"], metadata["group"], metadata["anyhost"]) == ("1.0", "a", "true")
    assert (metadata["token"], metadata["release"]) == ("t", "x")


def test_methods_are_deduplicated_and_sorted_in_metadata() -> None:
    service = make(methods=["b", "a", "b"])
    assert service.methods == ("b", "a")
    assert instance_metadata(service, timestamp_ms=1, pid=1)["methods"] == "a,b"


def test_provider_url() -> None:
    service = make(version="1.0")
    url = provider_url(service, instance_metadata(service, timestamp_ms=5, pid=6))
    assert url.startswith(
        "dubbo://10.1.2.3:10000/com.loki.www.infer.DubbogoInferService?anyhost=false&application=recsys&"
    )
    assert "&version=1.0" in url and "protocol=" not in url
    ipv6 = make(host="::1")
    assert provider_url(ipv6, {}).startswith("dubbo://[::1]:10000/")


def test_record_is_frozen_and_hashable() -> None:
    service = make(params={"k": "v"})
    with pytest.raises(AttributeError):
        service.port = 1  # type: ignore[misc]  # frozen: the assignment must fail
    with pytest.raises(TypeError):
        service.params["k"] = "w"  # type: ignore[index]  # read-only mapping: the assignment must fail
    assert hash(service) == hash(make(params={"k": "v"})) and service == make(params={"k": "v"})
    assert len({service, make(params={"k": "v"}), make()}) == 2
    assert service.service_key == "com.loki.www.infer.DubbogoInferService"
    assert make(group="g", version="1").service_key == "g/com.loki.www.infer.DubbogoInferService:1"


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(interface="not a class"), "Java class name"),
        (dict(interface=""), "Java class name"),
        (dict(methods=()), "at least one method"),
        (dict(methods=("ok", "bad-name")), "'bad-name' is not a Java identifier"),
        (dict(version="1:0"), "version '1:0'"),
        (dict(group="a b"), "group 'a b'"),
        (dict(host="0.0.0.0"), "bind-all"),
        (dict(host=""), "host must be"),
        (dict(host="under_score!"), "neither an IP address nor a host name"),
        (dict(port=0), "port must be an integer in [1, 65535]"),
        (dict(port="20880"), "port must be an integer"),
        (dict(port=True), "port must be an integer"),
        (dict(application=""), "application must be"),
        (dict(timeout_ms=0), "timeout_ms"),
        (dict(retries=-1), "retries"),
        (dict(weight=10**6), "weight"),
        (dict(anyhost="yes"), "anyhost must be a bool"),
        (dict(params={"category": "consumers"}), "may not set 'category'"),
        (dict(params={"prefer.serialization": "fastjson2,hessian2"}), "may not set 'prefer.serialization'"),
        (dict(params={"a&b": "c"}), "URL separator"),
        (dict(params={"k": 1}), "non-empty strings"),
        (dict(params=[("k", "v")]), "must be a mapping"),
    ],
)
def test_bad_records_are_refused_with_the_field_named(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ServiceRecordError) as info:
        make(**overrides)
    assert fragment in str(info.value)


def test_host_names_and_ipv6_are_accepted() -> None:
    assert make(host="recsys-0.recsys.svc.cluster.local").host == "recsys-0.recsys.svc.cluster.local"
    assert make(host="fe80::1").address == "[fe80::1]:10000"
