"""The try-it page in headless Chromium: one request over dubbo:// and over REST, explained stage by stage.

Against the shared fleet (conftest): the page is opened for a known user; it asks
``/console/explain`` (the REST shim calls the provider's dubbo:// port with the project's
client, debug on) and ``/recommend?explain=true``. Each stage table must say exactly what
the answer it drew says (candidates in and out, time, channel mix, top scores before and
after), the items table must be the answer's items, the answer must be the last stage's
top, the two paths must run the same stages, the calls must be counted under dubbo and
rest, and the screenshot must hold one time bar per stage and in/out bars.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.console import pixels
from tests.console.browser import Browser
from tests.console.conftest import Fleet, screenshot_path
from tests.funnel.peers import known_users
from tests.support import require_env

pytestmark = [pytest.mark.redis]

TOP_SHOWN = 5  # try.js shows this many top candidates per stage


def expected_row(stage: dict[str, Any]) -> list[str]:
    """A stage table row as try.js writes it (toFixed rounding, the same separators)."""
    mix = ", ".join(f"{name} {n}" for name, n in sorted(stage.get("channels", {}).items(), key=lambda kv: -kv[1]))
    top = "; ".join(
        f"{t['itemId']}: {'new' if t.get('before') is None else format(t['before'], '.3f')} \u2192 {t['score']:.3f}"
        for t in stage.get("top", [])[:TOP_SHOWN]
    )
    millis = format(stage["millis"], ".2f")
    return [stage["stage"], stage["kind"], str(stage["candidatesIn"]), str(stage["candidatesOut"]), millis, mix, top]


def _open(chromium: str, url: str) -> dict[str, Any]:
    with Browser(chromium) as browser:
        browser.page(url, height=1800)
        browser.wait_for("document.body.dataset.ready === 'yes'")
        found = {
            "answers": browser.evaluate("window.tryAnswers"),
            "tables": browser.evaluate(
                "Object.fromEntries([...document.querySelectorAll('table[id]')].map(t => [t.id,"
                " [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent))]))"
            ),
            "charts": browser.evaluate(
                "Object.fromEntries(Object.entries(window.consoleCharts).map(([k, c]) => [k, c.plotRect()]))"
            ),
            "users": browser.evaluate("[...document.querySelectorAll('#users option')].map(o => o.value)"),
        }
        found["shot"] = browser.screenshot(screenshot_path("try-it.png"))
    return found


def _calls(state: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(m["protocol"], m["interface"]): m["calls"] for m in state["methods"]}


@pytest.mark.asyncio
async def test_the_try_it_page_explains_one_request_over_dubbo_and_rest(fleet: Fleet) -> None:
    chromium = require_env("CHROMIUM_BIN")
    user = known_users(fleet.artifacts, 1)[0]
    async with httpx.AsyncClient(base_url=fleet.rest, timeout=30) as http:
        before = _calls((await http.get("/console/state")).json())
        page = await asyncio.to_thread(_open, chromium, f"{fleet.rest}/console/try?userId={user}&count=5")
        after = _calls((await http.get("/console/state")).json())
    assert page["users"][0] == user  # offered from the artifacts

    image = pixels.load(page["shot"])
    labels = {}
    for path in ("dubbo", "rest"):
        answer = page["answers"][path]
        assert answer["code"] == 200 and answer["pipeline"] == "full" and len(answer["items"]) == 5, answer
        stages = answer["explain"]
        labels[path] = [s["stage"] for s in stages]
        # the table is the answer, stage by stage
        assert page["tables"][f"{path}-stages"] == [expected_row(s) for s in stages]
        items = [
            [str(i + 1), item["itemId"], f"{item['score']:.4f}", item["channel"]]
            for i, item in enumerate(answer["items"])
        ]
        assert page["tables"][f"{path}-items"] == items
        # what the funnel did: recall brings candidates in from several channels, a later stage rescores
        recall = next(s for s in stages if s["kind"] == "recall")
        assert recall["candidatesIn"] == 0 and recall["candidatesOut"] > 5 and len(recall["channels"]) >= 2, recall
        assert all("before" not in t for t in recall["top"])
        ranked = next(s for s in stages if s["kind"] == "rank")
        assert ranked["candidatesIn"] > 0 and all("before" in t for t in ranked["top"])
        assert any(t["before"] != t["score"] for t in ranked["top"]), "the ranker changed no score"
        assert [t["itemId"] for t in stages[-1]["top"][:5]] == [i["itemId"] for i in answer["items"]]
        # the picture: one time bar per stage, in and out bars for the stages that had candidates
        area = {name: pixels.box(rect) for name, rect in page["charts"].items() if name.startswith(path)}
        assert len(pixels.bands(image, area[f"{path}-time"], "#1f77b4")) == len(stages)
        with_out = [s for s in stages if s["candidatesOut"] > 0]
        assert len(pixels.bands(image, area[f"{path}-counts"], "#2ca02c")) == len(with_out)
    assert labels["dubbo"] == labels["rest"] and len(labels["dubbo"]) >= 4
    # each path went where it says: one more dubbo:// recommend, one more REST GET /recommend
    dubbo_key = ("dubbo", "org.dubborecsys.api.RecommendService")
    assert after[dubbo_key] >= before.get(dubbo_key, 0) + 1
    assert after[("rest", "/recommend")] >= before.get(("rest", "/recommend"), 0) + 1
