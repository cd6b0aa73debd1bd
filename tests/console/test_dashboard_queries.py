"""The Grafana dashboard and the alert rules ask for what a live provider exports, in valid PromQL.

Every query of ``docker/grafana/dashboards/dubbo-recsys.json`` (panels and template
variables) and every rule of ``docker/prometheus/alerts.yml`` is parsed with a PromQL
parser (``promql-parser``, Rust's promql-parser behind Python), after Grafana's own
variables are given sample values. Then every metric a query selects must have samples
in a scrape of the shared fleet (conftest: two workers, realtime, REST, gRPC) after
traffic on each protocol and a realtime event, and every label a query matches on or
groups by must be on those samples (``instance`` and ``job`` are Prometheus' own). The
provisioning files must point where compose mounts them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.interfaces.events import Action, UserEvent, encode_event
from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommend_v1_pb2_grpc as v1_grpc
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.realtime.source import EventKind, EventsConfig
from dubbo_recsys.realtime.streams import publish
from tests.console.conftest import Fleet
from tests.funnel.peers import known_users, recommend

pytestmark = [pytest.mark.redis]

DOCKER = Path(__file__).resolve().parents[2] / "docker"
DASHBOARD = DOCKER / "grafana" / "dashboards" / "dubbo-recsys.json"
ALERTS = DOCKER / "prometheus" / "alerts.yml"
PROMETHEUS = DOCKER / "prometheus" / "prometheus.yml"
SCRAPE_LABELS = {"instance", "job"}  # added by Prometheus to every scraped sample
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "15m", "$__interval": "30s", "$instance": ".*"}


def dashboard_queries() -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target and template variable, Grafana's variables filled in."""
    document = json.loads(DASHBOARD.read_text())
    found = []

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from panels(item.get("panels", []))

    for panel in panels(document["panels"]):
        found += [(f"panel {panel['title']!r} {t['refId']}", t["expr"]) for t in panel.get("targets", [])]
    for variable in document["templating"]["list"]:
        if variable["type"] == "query":
            text = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", text)
            assert match, f"variable {variable['name']}: {text}"
            found.append((f"variable {variable['name']}", f"count by ({match[2]}) ({match[1]})"))
    filled = []
    for where, expr in found:
        text = expr
        for name, value in GRAFANA_VARIABLES.items():
            text = text.replace(name, value)
        assert "$" not in text, f"{where}: an unknown Grafana variable in {text}"
        filled.append((where, text))
    return filled


def alert_queries() -> list[tuple[str, str]]:
    document = yaml.safe_load(ALERTS.read_text())
    found = []
    for group in document["groups"]:
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["labels"]["severity"] in ("page", "ticket") and rule["annotations"]["summary"]
            promql_parser.parse_duration(rule["for"])
            found.append((f"alert {rule['alert']}", rule["expr"]))
    return found


def selectors(node: Any) -> Iterator[tuple[str, set[str]]]:
    """``(metric, labels the query uses on it)`` for every selector under ``node``; grouping labels of an
    aggregation count for each selector below it."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        labels = {m.name for m in node.matchers.matchers} | {m.name for ms in node.matchers.or_matchers for m in ms}
        yield node.name, labels - {"__name__"}
    elif kind == "MatrixSelector":
        yield from selectors(node.vector_selector)
    elif kind == "AggregateExpr":
        grouping = set(node.modifier.labels) if node.modifier is not None else set()
        for metric, labels in selectors(node.expr):
            yield metric, labels | grouping
    elif kind == "BinaryExpr":
        yield from selectors(node.lhs)
        yield from selectors(node.rhs)
    elif kind == "Call":
        for argument in node.args:
            yield from selectors(argument)
    elif kind in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
        yield from selectors(node.expr)


def exported(text: str) -> dict[str, set[str]]:
    """Sample name -> label names, for every sample of a Prometheus text exposition."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


async def traffic(fleet: Fleet) -> None:
    """A call on each protocol, one refused REST call, one applied and one dead-lettered event."""
    user = known_users(fleet.artifacts, 1)[0]
    async with await DubboClient.connect(fleet.provider.host, fleet.provider.port) as client:
        await recommend(client, RecommendRequest(userId=user, count=5))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{fleet.grpc_port}") as channel:
        await v1_grpc.RecommendServiceStub(channel).Recommend(v1_pb2.RecommendRequest(user_id=user), timeout=10)
    async with httpx.AsyncClient(base_url=fleet.rest, timeout=30) as http:
        await http.get("/recommend", params={"userId": user})
        await http.get("/recommend", params={"userId": ""})
    from dubbo_recsys.features.redis import RedisConfig, close_client

    redis = RedisConfig(url=fleet.redis_url, prefix=fleet.prefix).client()
    try:
        events, layout = EventsConfig.parse(fleet.redis_url), KeyLayout(fleet.prefix)
        event = UserEvent(uuid.uuid4().hex, user, "i2", Action.CLICK, int(time.time() * 1000))
        await publish(redis, layout, events, EventKind.USER, user, encode_event(event))
        await publish(redis, layout, events, EventKind.USER, "u-bad", b"[1, 2")
    finally:
        await close_client(redis)


def test_every_query_is_valid_promql() -> None:
    queries = dashboard_queries() + alert_queries()
    assert len(queries) >= 25  # every panel, variable and rule (a test that finds none would pass)
    for where, expr in queries:
        try:
            promql_parser.parse(expr)
        except ValueError as error:
            pytest.fail(f"{where}: {error}: {expr}")
    with pytest.raises(ValueError, match="parenthesis"):  # the parser does refuse what Prometheus refuses
        promql_parser.parse("sum(rate(dubbo_recsys_requests_total[5m])")


@pytest.mark.asyncio
async def test_every_query_asks_for_metrics_and_labels_a_live_provider_exports(fleet: Fleet) -> None:
    await traffic(fleet)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=fleet.rest, timeout=30) as http:
        while True:  # the consumers publish their counts every second or so
            samples = exported((await http.get("/metrics")).text)
            if "dubbo_recsys_realtime_dead_letters_total" in samples or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    problems = []
    for where, expr in dashboard_queries() + alert_queries():
        for metric, labels in selectors(promql_parser.parse(expr)):
            if metric not in samples:
                problems.append(f"{where}: {metric} is not exported")
            elif labels - samples[metric] - SCRAPE_LABELS:
                problems.append(f"{where}: {metric} has no label {sorted(labels - samples[metric] - SCRAPE_LABELS)}")
    assert not problems, "\n".join(problems)
    # and the check can fail: a misspelt metric or label is caught
    [(metric, labels)] = list(selectors(promql_parser.parse('sum by (protcol) (dubbo_recsys_request_total{a="b"})')))
    assert metric not in samples and labels == {"protcol", "a"}


def test_prometheus_and_grafana_are_provisioned_where_compose_mounts_them() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    provider_args = compose["provider"]["command"]
    rest_port = provider_args[provider_args.index("--rest-port") + 1]
    prometheus = yaml.safe_load(PROMETHEUS.read_text())
    [job] = prometheus["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [f"provider:{rest_port}"] and job["metrics_path"] == "/metrics"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["prometheus"]["volumes"]}
    for rule_file in prometheus["rule_files"]:
        assert (DOCKER / mounts[rule_file]).resolve() == ALERTS
    grafana_mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["grafana"]["volumes"]}
    provisioning = DOCKER / grafana_mounts["/etc/grafana/provisioning"]
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and "9090:9090" in compose["prometheus"]["ports"]
    [provider] = yaml.safe_load((provisioning / "dashboards" / "dubbo-recsys.yaml").read_text())["providers"]
    assert (DOCKER / grafana_mounts[provider["options"]["path"]]).resolve() == DASHBOARD.parent
