"""The console's charts show the traffic a test drives, read off a screenshot of headless Chromium.

Against the shared two-worker fleet (conftest): a dubbo:// ramp (more calls every 2-second
slot), steady gRPC calls, REST calls half of which are refused (422), a few realtime events
(one malformed). Then the page is loaded, its poller stopped after a last refresh, each
chart's plot area located, and the screenshot checked: every protocol's colour is drawn
in the calls and latency charts, only REST's in the errors chart, the dubbo line rises
where the ramp's values rise, the stage chart has one p50 and one p99 bar per stage, the
pipeline chart shows full answers; the tables show both workers, their calls added, and
the realtime consumer's applied events and dead letters.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import grpc
import httpx
import pytest

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.interfaces.events import Action, UserEvent, encode_event
from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommend_v1_pb2_grpc as v1_grpc
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.realtime.source import EventKind, EventsConfig
from dubbo_recsys.realtime.streams import publish
from tests.console import pixels
from tests.console.browser import Browser
from tests.console.conftest import Fleet, screenshot_path
from tests.funnel.peers import known_users, recommend
from tests.support import require_env

pytestmark = [pytest.mark.redis]

DUBBO, GRPC, REST = "#1f77b4", "#2ca02c", "#ff7f0e"
FULL = "#2ca02c"
P50, P99 = "#1f77b4", "#d62728"
RAMP = (2, 6, 10, 14, 18)  # dubbo:// calls in consecutive slots
STEP = 1.0  # --console-step of the fleet (conftest)


async def _next_slot(step: float) -> float:
    """Sleep into the next slot (a little after its start); its slot time."""
    await asyncio.sleep(step - time.time() % step + 0.05)
    return (time.time() // step) * step


async def drive(fleet: Fleet) -> dict[str, Any]:
    users = known_users(fleet.artifacts, 50)
    clients = [await DubboClient.connect(fleet.provider.host, fleet.provider.port) for _ in range(4)]
    first = last = 0.0
    try:
        async with (
            httpx.AsyncClient(base_url=fleet.rest, timeout=30) as http,
            grpc.aio.insecure_channel(f"127.0.0.1:{fleet.grpc_port}") as channel,
        ):
            stub = v1_grpc.RecommendServiceStub(channel)
            for index, calls in enumerate(RAMP):
                started = await _next_slot(STEP)
                first = first or started
                await asyncio.gather(
                    *(
                        recommend(clients[n % 4], RecommendRequest(userId=users[(n + index) % 50], count=10))
                        for n in range(calls)
                    ),
                    stub.Recommend(v1_pb2.RecommendRequest(user_id=users[index], count=5), timeout=10),
                    http.get("/recommend", params={"userId": users[index], "count": 5}),
                    http.get("/recommend", params={"userId": "", "count": 5}),  # refused: 422, an error
                )
            last = time.time()
    finally:
        for client in clients:
            await client.close()
    # a slot's sample is taken when the next slot starts and stamped with that one's time; on a busy
    # machine a batch may spill into the next slot, so the ramp covers every slot up to the last call's
    slots = [first + STEP * (n + 1) for n in range(int((last - first) // STEP) + 1)]
    return {"slots": slots, "dubbo": sum(RAMP)}


async def send_events(fleet: Fleet) -> None:
    from dubbo_recsys.features.redis import RedisConfig, close_client

    redis = RedisConfig(url=fleet.redis_url, prefix=fleet.prefix).client()
    events, layout = EventsConfig.parse(fleet.redis_url), KeyLayout(fleet.prefix)
    try:
        for n in range(3):
            user = known_users(fleet.artifacts, 3)[n]
            event = UserEvent(uuid.uuid4().hex, user, "i1", Action.CLICK, int(time.time() * 1000))
            await publish(redis, layout, events, EventKind.USER, user, encode_event(event))
        await publish(redis, layout, events, EventKind.USER, "u-bad", b"{not json")
    finally:
        await close_client(redis)


def _open_console(chromium: str, url: str, last_slot: float) -> dict[str, Any]:
    """Load the console, stop its poller after a refresh that has two slots after ``last_slot`` (so the ramp
    is not drawn on the plot's right edge), read it, screenshot it."""
    with Browser(chromium) as browser:
        browser.page(url + "/console", height=2700)
        browser.wait_for("document.body.dataset.ready === 'yes'")
        browser.evaluate("clearInterval(window.consoleRefresh.timer)")
        deadline = time.monotonic() + 30
        while True:
            browser.evaluate("window.consoleRefresh.refresh()")
            series = browser.evaluate("window.consoleSeries")
            applied = browser.evaluate(
                "[...document.querySelectorAll('#realtime tbody td:nth-child(4)')]"
                ".reduce((sum, td) => sum + Number(td.textContent), 0)"
            )
            if series["times"] and series["times"][-1] >= last_slot + 2 * STEP and applied >= 3:
                break
            assert time.monotonic() < deadline, f"the console never showed slot {last_slot} and 3 applied events"
            time.sleep(0.5)
        charts = browser.evaluate(
            "Object.fromEntries(Object.entries(window.consoleCharts).map(([k, c]) => [k, c.plotRect().toJSON ?"
            " c.plotRect().toJSON() : c.plotRect()]))"
        )
        positions = browser.evaluate(
            f"{json.dumps(series['times'])}.map(t => window.consoleCharts['chart-calls'].xPos(t))"
        )
        tables = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('table[id]')].map(t => [t.id,"
            " [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent))]))"
        )
        shot = browser.screenshot(screenshot_path("console.png"))
    return {"series": series, "charts": charts, "x": positions, "tables": tables, "shot": shot}


@pytest.mark.asyncio
async def test_the_console_charts_the_traffic_of_the_whole_fleet(fleet: Fleet) -> None:
    chromium = require_env("CHROMIUM_BIN")
    async with httpx.AsyncClient(base_url=fleet.rest, timeout=30) as http:
        before = (await http.get("/console/state")).json()
    await send_events(fleet)
    driven = await drive(fleet)
    page = await asyncio.to_thread(_open_console, chromium, fleet.rest, driven["slots"][-1])
    series, image = page["series"], pixels.load(page["shot"])
    area = {name: pixels.box(rect) for name, rect in page["charts"].items()}

    # the data: both workers' rings merged; every dubbo:// call of the ramp counted once
    assert sorted(series["workers"]) == ["0", "1"] and series["missingWorkers"] == []  # the answering worker first
    protocols = {p["protocol"]: p for p in series["protocols"]}
    at = {t: i for i, t in enumerate(series["times"])}
    ramp = [protocols["dubbo"]["callsPerSecond"][at[slot]] * STEP for slot in driven["slots"]]
    assert sum(ramp) == driven["dubbo"], ramp
    assert protocols["rest"]["errors"] >= len(RAMP) and protocols["grpc"]["calls"] >= len(RAMP)

    # the pictures: each protocol's line in the calls and latency charts, only REST in the errors chart
    for colour in (DUBBO, GRPC, REST):
        assert pixels.count(image, area["chart-calls"], colour) > 30, colour
        assert pixels.count(image, area["chart-latency"], colour) > 30, colour
    assert pixels.count(image, area["chart-errors"], REST) > 30
    assert pixels.count(image, area["chart-errors"], DUBBO) == 0
    assert pixels.count(image, area["chart-answers"], FULL) > 30

    # the trend: the ramp rises, and where its value is higher the dubbo line is drawn higher (a smaller y)
    half = len(ramp) // 2
    assert sum(ramp[-half:]) > sum(ramp[:half]) and max(ramp) >= max(RAMP) / 2, ramp
    heights = []
    for slot, value in zip(driven["slots"], ramp, strict=True):
        y = pixels.highest(image, area["chart-calls"], round(page["x"][at[slot]]), DUBBO)
        assert y is not None, f"no dubbo line at slot {slot}"
        heights.append((value, y))
    for low_value, low_y in heights:
        for high_value, high_y in heights:
            if high_value >= low_value + 2:
                assert high_y < low_y, heights
    y_at_peak = max(heights)[1]
    assert y_at_peak < heights[0][1] - 20, heights

    # the stage chart: one p50 and one p99 bar per stage the funnel ran, p99 no shorter than p50
    stages = series["stages"]
    assert [s["kind"] for s in stages][:2] == ["hydrate", "recall"] and len(stages) >= 4
    p50_bars = pixels.bands(image, area["chart-stages"], P50)
    p99_bars = pixels.bands(image, area["chart-stages"], P99)
    assert len(p50_bars) == len(p99_bars) == len(stages), (p50_bars, p99_bars)
    assert all(p99[2] >= p50[2] for p50, p99 in zip(p50_bars, p99_bars, strict=True))

    # the tables: both workers up and serving, their calls added up; realtime applied and dead-lettered
    workers = {row[0]: row for row in page["tables"]["workers"]}
    assert set(workers) == {"0", "1"} and all(row[1:3] == ["yes", "serving"] for row in workers.values())
    methods = {(row[0], row[2]): int(row[3]) for row in page["tables"]["methods"]}
    counted_before = {(m["protocol"], m["method"]): m["calls"] for m in before["methods"]}
    assert methods[("dubbo", "recommend")] - counted_before.get(("dubbo", "recommend"), 0) >= driven["dubbo"]
    assert sum(int(row[4]) for row in workers.values()) >= sum(RAMP)
    consumers = page["tables"]["realtime"]  # one consumer per worker, sharing the partitions
    assert consumers and all(row[1] == "redis" for row in consumers)
    assert sum(int(row[3]) for row in consumers) >= 3 and sum(int(row[5]) for row in consumers) >= 1
    assert [row[0] for row in page["tables"]["breakers"] if row[2] == "1"], "worker 1's breakers are listed"
