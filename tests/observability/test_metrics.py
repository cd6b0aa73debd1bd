"""ProviderMetrics: state gauges read at scrape time, the console's method table, validation."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dubbo_recsys.pipeline import Downstream
from dubbo_recsys.provider.observability import ObservabilityConfigError, Phase, ProviderState, RegistryState
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.services import default_exports


def _samples(metrics: ProviderMetrics, name: str) -> dict[tuple, float]:
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        if family.name == name:
            return {tuple(sorted(s.labels.items())): s.value for s in family.samples}
    raise AssertionError(f"no metric {name}")


@pytest.mark.asyncio
async def test_breaker_states_follow_the_downstreams() -> None:
    redis, faiss = Downstream("redis", failure_threshold=1, recovery_seconds=60), Downstream("faiss")

    async def fail() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        await redis.call(fail, timeout=1)
    metrics = ProviderMetrics(ProviderState(breakers=[redis, faiss]))
    states = _samples(metrics, "dubbo_recsys_breaker_state")
    assert states[(("downstream", "redis"), ("state", "open"))] == 1.0
    assert states[(("downstream", "redis"), ("state", "closed"))] == 0.0
    assert states[(("downstream", "faiss"), ("state", "closed"))] == 1.0


def test_in_flight_bounds_are_read_when_scraped() -> None:
    from types import SimpleNamespace

    from dubbo_recsys.pipeline import InFlight
    from dubbo_recsys.provider.observability.sources import admission_of

    full, light = InFlight(2), InFlight(0)
    recommender = SimpleNamespace(resources=SimpleNamespace(full_inflight=full, light_inflight=light))
    metrics = ProviderMetrics(ProviderState(admission=admission_of(recommender)))
    assert full.enter() and full.enter() and not full.enter() and light.enter()
    assert _samples(metrics, "dubbo_recsys_pipeline_inflight") == {
        (("pipeline", "full"),): 2.0,
        (("pipeline", "light"),): 1.0,
    }
    assert _samples(metrics, "dubbo_recsys_pipeline_inflight_limit") == {
        (("pipeline", "full"),): 2.0,
        (("pipeline", "light"),): 0.0,
    }
    shed = _samples(metrics, "dubbo_recsys_pipeline_shed")
    assert shed[(("pipeline", "full"),)] == 1.0 and shed[(("pipeline", "light"),)] == 0.0
    full.leave()
    assert _samples(metrics, "dubbo_recsys_pipeline_inflight")[(("pipeline", "full"),)] == 1.0
    popular_only = ProviderMetrics(ProviderState(admission=admission_of(PopularRecommender())))
    assert _samples(popular_only, "dubbo_recsys_pipeline_inflight") == {}


def test_versions_and_registry_state_are_read_when_scraped() -> None:
    versions = {"scenes": {"home": "v1"}, "models": {"deepfm": "3"}}
    state = ProviderState.for_exports(
        default_exports(PopularRecommender()), "nacos://user:pw@10.0.0.5:8848?namespace=dev", versions=lambda: versions
    )
    metrics = ProviderMetrics(state)
    assert (
        _samples(metrics, "dubbo_recsys_registry_state")[(("registry", "nacos://10.0.0.5:8848"), ("state", "pending"))]
        == 1.0
    )
    found = _samples(metrics, "dubbo_recsys_version_info")
    assert found[(("kind", "scenes"), ("name", "home"), ("version", "v1"))] == 1.0
    versions["scenes"]["home"] = "v2"  # a hot swap shows on the next scrape
    state.registry_state, state.phase = RegistryState.REGISTERED, Phase.SERVING
    found = _samples(metrics, "dubbo_recsys_version_info")
    assert (("kind", "scenes"), ("name", "home"), ("version", "v2")) in found
    assert (("kind", "scenes"), ("name", "home"), ("version", "v1")) not in found
    assert _samples(metrics, "dubbo_recsys_phase")[(("phase", "serving"),)] == 1.0
    assert "pw" not in metrics.exposition().decode()  # credentials never become labels


def test_a_failing_version_source_shows_as_an_error_not_an_exception() -> None:
    def broken() -> dict:
        raise OSError("cannot read")

    state = ProviderState(versions=broken)
    assert state.version_table() == {"error": {"OSError": "cannot read"}}
    assert "dubbo_recsys_version_info" in ProviderMetrics(state).exposition().decode()


def test_the_method_table_counts_errors_and_forgets_old_calls_for_qps() -> None:
    metrics = ProviderMetrics(window=2)  # QPS = calls in the last 2 whole seconds / 2
    for status in ("ok", "ok", "exception"):
        metrics.observe_call("dubbo", "svc", "m", status, 0.004)
    metrics.observe_call("rest", "/recommend", "GET", "200", 0.002)
    rows = {(r["protocol"], r["method"]): r for r in metrics.method_table()}
    assert rows[("dubbo", "m")] == {
        "protocol": "dubbo",
        "interface": "svc",
        "method": "m",
        "calls": 3,
        "errors": 1,
        "qps": 1.5,
        "meanMs": 4.0,
    }
    assert rows[("rest", "GET")]["errors"] == 0
    time.sleep(2.05)
    assert all(r["qps"] == 0 for r in metrics.method_table())
    assert rows[("dubbo", "m")]["calls"] == 3


def test_each_instance_has_its_own_registry_and_the_window_is_checked() -> None:
    first, second = ProviderMetrics(), ProviderMetrics()
    first.observe_call("grpc", "recommend", "recommend", "200", 0.1)
    assert "grpc" in first.exposition().decode() and "grpc" not in second.exposition().decode()
    for bad in (0, 1.5, 301):
        with pytest.raises(ObservabilityConfigError, match="window"):
            ProviderMetrics(window=bad)  # type: ignore[arg-type]  # 1.5 is not an int, on purpose


def test_the_latency_histogram_puts_each_call_in_its_bucket() -> None:
    metrics = ProviderMetrics()
    for seconds in (0.0004, 0.001, 0.003, 7.0):
        metrics.observe_call("dubbo", "svc", "m", "ok", seconds)
    buckets = {
        dict(k)["le"]: v for k, v in _samples(metrics, "dubbo_recsys_request_seconds").items() if "le" in dict(k)
    }
    assert (buckets["0.0005"], buckets["0.001"], buckets["0.005"], buckets["5.0"], buckets["+Inf"]) == (1, 2, 3, 3, 4)
    counts = _samples(metrics, "dubbo_recsys_requests")
    assert counts[(("interface", "svc"), ("method", "m"), ("protocol", "dubbo"), ("status", "ok"))] == 4
