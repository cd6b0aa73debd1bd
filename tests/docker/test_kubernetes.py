"""docker/k8s/: every manifest validates against the Kubernetes API schema
(kubernetes-validate, strict: unknown fields fail), and the pieces agree with each
other and with `dubbo-recsys serve`: args, ports, probes, shutdown timing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.docker.manifests import (
    K8S,
    dockerfile_instructions,
    grpc_port,
    load_yaml,
    parse_serve,
    serve_has_grpc,
    stages,
)
from tests.support import require_env


def documents() -> dict[str, dict[str, Any]]:
    """Every manifest by kind (one object of each kind)."""
    by_kind: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in load_yaml(path):
            assert doc["kind"] not in by_kind, f"two {doc['kind']} objects"
            by_kind[doc["kind"]] = doc
    return by_kind


def validate(doc: dict[str, Any]) -> None:
    version = require_env("KUBERNETES_SCHEMA_VERSION")
    import kubernetes_validate

    kubernetes_validate.validate(doc, version, strict=True)


def container(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (only,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


def serve_args(docs: dict[str, dict[str, Any]]) -> Any:
    """The container's args with $(VAR) resolved from the ConfigMap, parsed by serve."""
    values = dict(docs["ConfigMap"]["data"])

    def resolve(arg: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], arg)

    return parse_serve([resolve(arg) for arg in container(docs)["args"]])


def test_the_expected_objects_are_there() -> None:
    assert set(documents()) == {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}


@pytest.mark.parametrize(
    "kind", ["ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
)
def test_manifest_validates_against_the_api_schema(kind: str) -> None:
    validate(documents()[kind])


def test_schema_validation_catches_a_misspelt_field() -> None:
    import kubernetes_validate

    deployment = documents()["Deployment"]
    container(documents())  # shape check
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_args_are_serve_with_ports_matching_the_container_ports() -> None:
    docs = documents()
    args = serve_args(docs)
    assert args.host == "0.0.0.0"
    ports = {port["name"]: port["containerPort"] for port in container(docs)["ports"]}
    expected = {"dubbo": args.port}
    if grpc_port(args) is not None:
        expected["grpc"] = grpc_port(args)
    assert ports == expected
    assert container(docs)["envFrom"][0]["configMapRef"] == {"name": "dubbo-recsys"}
    assert docs["ConfigMap"]["metadata"]["name"] == "dubbo-recsys"


def test_probes_ask_what_serve_runs() -> None:
    """Readiness and startup: grpc.health.v1 when the shim is on, else the dubbo:// port.
    Liveness: always only the dubbo:// port, so a busy pod is not restarted."""
    docs = documents()
    args = serve_args(docs)
    spec = container(docs)
    for probe in ("readinessProbe", "startupProbe"):
        if grpc_port(args) is not None:
            assert spec[probe]["grpc"]["port"] == grpc_port(args), probe
        else:
            assert spec[probe]["tcpSocket"]["port"] in ("dubbo", args.port), probe
    assert spec["livenessProbe"]["tcpSocket"]["port"] in ("dubbo", args.port)


def test_deployment_runs_the_grpc_shim_once_serve_can() -> None:
    """Fails on the day serve gains --grpc-port until docker/ turns the shim on (docker/README.md)."""
    assert (grpc_port(serve_args(documents())) is not None) == serve_has_grpc(), (
        "serve and docker/ disagree on --grpc-port: see docker/README.md, 'Turning on the gRPC shim'"
    )


def test_shutdown_fits_in_the_grace_period() -> None:
    docs = documents()
    args = serve_args(docs)
    command = container(docs)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    grace = docs["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop + args.drain_timeout + 5 <= grace


def test_service_hpa_and_pdb_point_at_the_deployment() -> None:
    docs = documents()
    deployment = docs["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    named = {port["name"] for port in container(docs)["ports"]}
    assert {port["targetPort"] for port in docs["Service"]["spec"]["ports"]} <= named
    target = docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "cpu" in container(docs)["resources"]["requests"], "CPU utilisation needs a request"


def test_pod_runs_as_the_images_non_root_user() -> None:
    pod = documents()["Deployment"]["spec"]["template"]["spec"]
    user = next(i for i in stages(dockerfile_instructions())[-1] if i.keyword == "USER").argument
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == user.split(":")[0]
    assert container(documents())["securityContext"]["allowPrivilegeEscalation"] is False
