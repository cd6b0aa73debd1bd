"""provider.observability.history: the console's 15-minute ring, its merge across workers, its chart view."""

from __future__ import annotations

import json

import pytest

from dubbo_recsys.provider.observability.history import History, Key, chart_view, merge_raw, quantile
from dubbo_recsys.provider.observability.metrics import ProviderMetrics

BOUNDS = (0.01, 0.1, 1.0)


def call_row(calls: int, errors: int, buckets: tuple[int, int, int, int]) -> list[float]:
    return [calls, errors, 0.0, *buckets]


def test_a_slot_holds_what_grew_since_the_last_sample_and_only_series_that_moved() -> None:
    history = History(step=5, window=900)
    history.sample(1000.2, {("call", "dubbo", "A"): call_row(3, 0, (3, 0, 0, 0)), ("answer", "full"): [3]})
    history.sample(1005.1, {("call", "dubbo", "A"): call_row(10, 1, (8, 2, 0, 0)), ("answer", "full"): [3]})
    slots = history.raw()["slots"]
    assert [moment for moment, _ in slots] == [1000.0, 1005.0]
    assert slots[1][1] == {"call\tdubbo\tA": [7.0, 1.0, 0.0, 5.0, 2.0, 0.0, 0.0]}  # the answer did not move


def test_a_counter_that_went_down_restarted_and_a_second_sample_in_a_slot_adds_to_it() -> None:
    history = History(step=5, window=900)
    history.sample(1000, {("answer", "full"): [50]})
    history.sample(1005, {("answer", "full"): [4]})  # a process restart: growth is the new value
    history.sample(1007, {("answer", "full"): [6]})  # same slot as 1005
    assert [growth for _, growth in history.raw()["slots"]] == [{"answer\tfull": [50.0]}, {"answer\tfull": [6.0]}]


def test_the_ring_is_bounded_by_its_window() -> None:
    history = History(step=1, window=30)
    for second in range(100):
        history.sample(float(second), {("answer", "full"): [second]})
    slots = history.raw()["slots"]
    assert len(slots) == 30 and slots[0][0] == 70.0


def test_quantiles_interpolate_inside_the_bucket_as_prometheus_does() -> None:
    assert quantile(0.5, [0, 10, 0, 0], BOUNDS) == pytest.approx(0.055)  # halfway through (0.01, 0.1]
    assert quantile(0.99, [99, 0, 1, 0], BOUNDS) == pytest.approx(0.01)
    assert quantile(0.99, [0, 0, 0, 5], BOUNDS) == 1.0  # +Inf bucket: the highest finite bound
    assert quantile(0.5, [0, 0, 0, 0], BOUNDS) is None


def test_workers_rings_add_up_slot_by_slot() -> None:
    first, second = History(step=5), History(step=5)
    first.sample(1000, {("call", "dubbo", "A"): call_row(4, 0, (4, 0, 0, 0))})
    second.sample(1001, {("call", "dubbo", "A"): call_row(6, 2, (0, 6, 0, 0))})
    second.sample(1006, {("call", "dubbo", "A"): call_row(16, 2, (0, 16, 0, 0))})
    merged = merge_raw([json.loads(json.dumps(first.raw())), second.raw()])  # as it travels between workers
    view = chart_view(merged, BOUNDS)
    assert view["times"] == [1000.0, 1005.0]
    [service] = view["services"]
    assert service["callsPerSecond"] == [2.0, 2.0] and service["errorsPerSecond"] == [0.4, 0.0]
    assert service["calls"] == 20 and service["errors"] == 2


def test_the_chart_view_has_rates_per_service_and_protocol_stage_bars_in_funnel_order_and_answers() -> None:
    history = History(step=2)
    counters: dict[Key, list[float]] = {
        ("call", "dubbo", "A"): call_row(0, 0, (0, 0, 0, 0)),
        ("call", "dubbo", "B"): call_row(0, 0, (0, 0, 0, 0)),
        ("call", "rest", "/recommend"): call_row(0, 0, (0, 0, 0, 0)),
    }
    history.sample(10, counters)
    history.sample(12, {**counters, ("call", "dubbo", "A"): call_row(8, 0, (8, 0, 0, 0))})
    history.sample(14, {**counters, ("call", "dubbo", "A"): call_row(8, 0, (8, 0, 0, 0)), ("answer", "light"): [6]})
    history.sample(
        16, {("stage", "mmr", "re_rank"): [4, 0.02, 4, 0, 0, 0], ("stage", "u2i", "recall"): [2, 1, 0, 0, 2, 0]}
    )
    view = chart_view(history.raw(), BOUNDS)
    assert view["times"] == [10.0, 12.0, 14.0, 16.0]
    services = {(s["protocol"], s["interface"]): s for s in view["services"]}
    assert services[("dubbo", "A")]["callsPerSecond"] == [0.0, 4.0, 0.0, 0.0]
    assert services[("dubbo", "A")]["p50Ms"] == [None, pytest.approx(5.0), None, None]
    protocols = {s["protocol"]: s for s in view["protocols"]}
    assert set(protocols) == {"dubbo"} and protocols["dubbo"]["interface"] == "*"  # rest never moved
    assert [s["stage"] for s in view["stages"]] == ["u2i", "mmr"]  # recall before re-rank
    assert view["stages"][0]["meanMs"] == 500.0 and view["stages"][0]["p99Ms"] == pytest.approx(
        991.0
    )  # 0.1 + 0.9 * 1.98 / 2 s
    assert view["answers"] == {"light": [0.0, 0.0, 3.0, 0.0]}


def test_provider_metrics_feed_the_history_from_their_own_counters() -> None:
    metrics = ProviderMetrics(history_step=1)
    metrics.sample(100.0)
    for _ in range(5):
        metrics.observe_call("dubbo", "svc", "recommend", "ok", 0.004)
    metrics.observe_call("grpc", "svc", "Recommend", "internal", 0.2)
    metrics.observe_stage("din", "rank", 0.003)
    metrics.observe_answer("full")
    metrics.sample(101.0)
    view = metrics.chart_view()
    protocols = {s["protocol"]: s for s in view["protocols"]}
    assert protocols["dubbo"]["callsPerSecond"][-1] == 5.0 and protocols["grpc"]["errorsPerSecond"][-1] == 1.0
    assert 2.5 < protocols["dubbo"]["p99Ms"][-1] <= 5.0
    assert view["stages"] == [
        {
            "stage": "din",
            "kind": "rank",
            "count": 1.0,
            "meanMs": 3.0,
            "p50Ms": pytest.approx(2.5 + 1.25),
            "p99Ms": pytest.approx(4.975),
        }
    ]
    assert view["answers"] == {"full": [0.0, 1.0]}
