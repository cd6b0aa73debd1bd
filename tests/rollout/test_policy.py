"""The pure parts of the rollout: the pin document, the version policy, the memory check, the metadata."""

from __future__ import annotations

import json

import pytest

from dubbo_recsys.provider.rollout.errors import PinError
from dubbo_recsys.provider.rollout.memory import RESERVE, MemoryReadings, refusal
from dubbo_recsys.provider.rollout.pin import MAX_HISTORY, Pin, parse_pin
from dubbo_recsys.provider.rollout.policy import next_version, start_candidates
from dubbo_recsys.provider.rollout.state import RolloutState, instance_metadata

A, B, C, D = (f"2026010{n}T030000Z-{n:012x}" for n in range(1, 5))
MiB = 1024 * 1024


def test_publish_keeps_the_history_and_rollback_walks_it_back() -> None:
    pin = Pin("").publish(A).publish(B).publish(C, note="daily")
    assert (pin.version, pin.history, pin.note, pin.skip_metric_gate) == (C, (B, A), "daily", False)
    back = pin.rollback()
    assert (back.version, back.history, back.skip_metric_gate) == (B, (A,), True)
    assert back.rollback().version == A
    assert pin.rollback(to=A).history == ()
    with pytest.raises(PinError, match="was not published before"):
        pin.rollback(to=D)
    with pytest.raises(PinError, match="nothing to roll back to"):
        Pin(A).rollback()
    assert pin.publish(C).history == (B, A)  # publishing what is pinned adds nothing to the history
    many = Pin("")
    for n in range(MAX_HISTORY + 5):
        many = many.publish(f"20260101T0300{n:02d}Z-{n:012x}")
    assert len(many.history) == MAX_HISTORY


def test_a_pin_round_trips_and_bad_documents_are_refused() -> None:
    pin = Pin("").publish(A).publish(B, skip_metric_gate=True, note="n")
    assert parse_pin(pin.to_json()) == pin
    for text, message in (
        ("{", "not JSON"),
        ("[]", "JSON object"),
        ("{}", '"version"'),
        (json.dumps({"version": "../x"}), "not a version id"),
        (json.dumps({"version": A, "history": [1]}), "history"),
        (json.dumps({"version": A, "skipMetricGate": "yes"}), "skipMetricGate"),
        ("x" * 70_000, "64 KiB"),
    ):
        with pytest.raises(PinError, match=message):
            parse_pin(text)


def test_without_a_pin_the_newest_serves_and_nothing_goes_back_on_its_own() -> None:
    assert next_version([A, B], None, A, set()) == B
    assert next_version([A, B], None, B, set()) is None
    assert next_version([A], None, B, set()) is None  # B vanished from the root: keep serving it
    assert next_version([A, B, C], None, A, {C}) == B  # the newest was refused: the next newer than A
    assert next_version([A, B, C], None, B, {C}) is None


def test_a_pin_is_followed_either_way_unless_refused_or_missing() -> None:
    assert next_version([A, B, C], Pin(A), C, set()) == A  # back, because an operator said so
    assert next_version([A, B, C], Pin(B), B, set()) is None
    assert next_version([A, B], Pin(C), A, set()) is None  # pinned version not in the root (yet)
    assert next_version([A, B], Pin(B), A, {B}) is None  # refused for this pin: not retried every poll


def test_at_start_the_pin_comes_first_then_the_newest() -> None:
    assert start_candidates([A, B, C], None) == [C, B, A]
    assert start_candidates([A, B, C], Pin(A)) == [A, C, B]
    assert start_candidates([A, B], Pin(D)) == [B, A]
    assert start_candidates([A, B, C], None, {C}) == [B, A]


def test_memory_refuses_what_cannot_sit_beside_the_serving_version() -> None:
    plenty = MemoryReadings(rss=500 * MiB, machine_available=8000 * MiB, cgroup_left=1 << 60)
    assert refusal(100 * MiB, plenty) == ""
    tight = MemoryReadings(rss=500 * MiB, machine_available=150 * MiB, cgroup_left=1 << 60)
    reason = refusal(100 * MiB, tight)
    assert "cannot hold two versions" in reason and "MemAvailable" in reason and "needs about 100 MiB" in reason
    cgroup = MemoryReadings(rss=500 * MiB, machine_available=8000 * MiB, cgroup_left=120 * MiB)
    assert "cgroup" in refusal(100 * MiB, cgroup)
    assert "--rollout-memory-limit-mb 600" in refusal(100 * MiB, plenty, limit=600 * MiB)
    assert refusal(100 * MiB, plenty, limit=600 * MiB + 100 * MiB + RESERVE) == ""


def test_instance_metadata_says_what_each_worker_serves_and_the_last_refusal() -> None:
    zero, one = RolloutState(worker="0", serving=A, load_seconds=1.234), RolloutState(worker="1", serving=A)
    agreed = instance_metadata([one.as_json(), zero.as_json()])
    assert agreed["artifacts.version"] == A and agreed["artifacts.workers"] == f"0:{A},1:{A}"
    assert agreed["artifacts.load_seconds"] == "0:1.23,1:0.00" and agreed["artifacts.refused"] == ""
    one.serving, one.loading = B, C
    one.refused(D, "finite", "embeddings/items.npy: 1 of 10 values are NaN & worse\nsecond line")
    rolling = instance_metadata([zero.as_json(), one.as_json()])
    assert rolling["artifacts.version"] == "mixed" and rolling["artifacts.loading"] == f"1:{C}"
    assert rolling["artifacts.refused"] == f"1:{D}"
    assert (
        rolling["artifacts.refusal"].startswith("finite: embeddings/items.npy")
        and "&" not in rolling["artifacts.refusal"]
    )
    assert all("\n" not in value for value in rolling.values())
    assert one.refusals == {"finite": 1}


def test_a_background_load_gives_way_only_while_the_event_loop_is_late(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import threading
    import time

    from dubbo_recsys.provider.rollout import controller

    naps: list[float] = []
    real_sleep, this_thread = time.sleep, threading.get_ident()

    def nap(seconds: float) -> None:  # time.sleep is the time module's: other threads (earlier tests') sleep for real
        if threading.get_ident() == this_thread:
            naps.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("dubbo_recsys.provider.rollout.controller.time.sleep", nap)

    def work() -> int:
        return sum(len(str(n)) for n in range(200_000))  # many Python calls: the hook's chances to yield

    heartbeat = controller.Heartbeat()
    heartbeat.last = float("inf")  # the loop beat just now, always: nothing to give way to
    assert controller.background(work, heartbeat)() == work() and naps == [] and sys.getprofile() is None
    heartbeat.last = 0.0  # the loop has not run for ages: it waits for the GIL...
    assert controller.background(work, heartbeat, busy=lambda: False)() == work() and naps == []  # ...for nothing
    assert controller.background(work, heartbeat, busy=lambda: True)() == work() and sys.getprofile() is None
    assert naps and set(naps) == {0.001}  # calls are in flight: give way
