"""The console page in headless Chromium, against a real provider (dubbo:// + REST on free ports).

Chromium loads ``/console``, runs ``console.js`` (which fetches ``/console/state``) and
dumps the DOM it ended with; the test reads the tables out of that DOM. Needs
``CHROMIUM_BIN`` (tests/ci/55-chromium.sh installs Debian's chromium and exports it).
"""

from __future__ import annotations

import asyncio
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest
from dubbo_recsys.interfaces.seed import INTERFACE as SEED_INTERFACE
from dubbo_recsys.interfaces.seed import RecRequest
from dubbo_recsys.pipeline import Downstream
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.observability import ProviderState
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.rest import JwtConfig, RestShim, RestShimConfig, RestUser
from dubbo_recsys.provider.rollout.state import RolloutState, StateBoard
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Lifecycle, Server
from tests.support import require_env

VERSIONS = {"scenes": {"home": "v7"}, "models": {"deepfm": "20261127"}, "indexes": {"u2i": "md5-3f2a"}}
REALTIME = {  # what provider.realtime.RealtimeBeside.snapshot() gives: one consumer's published stats
    "consumers": [
        {
            "consumer": "host-1",
            "source": "kafka",
            "group": "dubbo-recsys-realtime",
            "applied": 1200,
            "redelivered": 3,
            "duplicates": 2,
            "deadLettered": {"missing_field": 4},
            "lag": {"recsys-user-events:0": 7, "recsys-user-events:1": 0},
            "freshnessBuckets": [0.01, 0.05, 0.25, 1.0],
            "freshness": [100, 900, 190, 10, 0],
        }
    ],
    "liveItems": 5,
    "removedItems": 1,
    "trendingItems": 40,
    "followErrors": 0,
}


class _Tables(HTMLParser):
    """Rows of every ``<table id=...>`` body, plus the text and style of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, str] = {}
        self.styles: dict[str, str] = {}
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self._open_id: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        key = found.get("id")
        if key:
            self.styles[key] = found.get("style") or ""
        if tag == "table":
            self._table = found.get("id")
            self.tables[self._table or ""] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self.tables[self._table].append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        if tag == "span":
            self._open_id.append(found.get("id"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        elif tag == "span" and self._open_id:
            self._open_id.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._open_id and self._open_id[-1]:
            self.texts[self._open_id[-1]] = self.texts.get(self._open_id[-1], "") + data


async def _dump_dom(chromium: str, url: str) -> str:
    with tempfile.TemporaryDirectory(prefix="console-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout=90)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
    assert process.returncode == 0, f"chromium exited {process.returncode}"
    return out.decode()


def _rollout(directory: Path) -> StateBoard:
    """Two workers' rollout rows: this one serving B, the other still loading it and having refused C."""
    other = RolloutState(worker="1", serving="v-a", loading="v-b", swaps=2)
    other.refused("v-c", "finite", "embeddings/items.npy: 1 of 10 values are NaN or inf")
    StateBoard(other, directory).publish()
    return StateBoard(RolloutState(worker="0", serving="v-b", pin="v-b", load_seconds=1.5, swaps=3), directory)


async def _start(config: RestShimConfig, rollout: StateBoard | None = None) -> tuple[Server, RestShim, int]:
    recommender = PopularRecommender()
    exports = default_exports(recommender)
    redis = Downstream("redis", failure_threshold=1, recovery_seconds=300)

    async def refuse() -> None:
        raise ConnectionError("redis is down")

    with pytest.raises(ConnectionError):
        await redis.call(refuse, timeout=1)
    state = ProviderState.for_exports(
        exports,
        breakers=[redis, Downstream("tf-serving")],
        versions=lambda: VERSIONS,
        realtime=lambda: REALTIME,
        rollout=lambda: rollout,
    )
    lifecycle = Lifecycle()
    shim = RestShim(recommender, config, exports, state=state).attach(lifecycle)
    server = Server(Dispatcher(exports), ServerConfig(host="127.0.0.1", port=0, drain_timeout=1), lifecycle)
    await server.start()
    return server, shim, server.port


@pytest.mark.asyncio
async def test_the_console_shows_services_calls_breakers_and_versions(tmp_path: Path) -> None:
    chromium = require_env("CHROMIUM_BIN")
    server, shim, port = await _start(RestShimConfig(port=0), _rollout(tmp_path))
    try:
        async with await DubboClient.connect("127.0.0.1", port) as client:
            for user in ("u1", "u2", "u3"):
                await client.call(
                    INTERFACE,
                    "recommend",
                    [RecommendRequest(userId=user, count=2)],
                    parameter_types=["org.dubborecsys.api.RecommendRequest"],
                    version=VERSION,
                )
            for user in ("u1", "u2"):
                await client.call(
                    SEED_INTERFACE,
                    "RecommenderInfer",
                    [RecRequest(userId=user, dataId="home")],
                    parameter_types=["com.loki.www.infer.RecRequest"],
                )
        page = _Tables()
        page.feed(await _dump_dom(chromium, f"http://127.0.0.1:{shim.port}/console"))
    finally:
        await server.shutdown()
    assert page.texts["phase"] == "serving" and page.texts["address"] == f"127.0.0.1:{port}"
    assert page.texts["registry"] == "none (direct)"
    services = {row[0]: row for row in page.tables["services"]}
    assert set(services) == {INTERFACE, SEED_INTERFACE}
    assert services[INTERFACE][1:4] == ["1.0.0", "", "recommend"]
    calls = {(row[0], row[1], row[2]): row for row in page.tables["methods"]}
    recommend = calls[("dubbo", INTERFACE, "recommend")]
    assert int(recommend[3]) == 3 and int(recommend[4]) == 0 and float(recommend[5]) > 0
    assert int(calls[("dubbo", SEED_INTERFACE, "RecommenderInfer")][3]) == 2
    assert sorted(page.tables["breakers"]) == [["redis", "open", "0"], ["tf-serving", "closed", "0"]]
    assert ["scenes", "home", "v7"] in page.tables["versions"]
    assert ["indexes", "u2i", "md5-3f2a"] in page.tables["versions"]
    assert page.tables["realtime"] == [
        ["host-1", "kafka", "dubbo-recsys-realtime", "1200", "5", "4", "7", "2", "<= 0.05 s", "<= 0.25 s"]
    ]
    assert page.texts["realtime-summary"].startswith("5 live items, 1 removed, 40 trending")
    rollout = {row[0]: row for row in page.tables["rollout"]}
    assert rollout["0"][0:4] == ["0", "v-b", "", "v-b"] and rollout["0"][6] == "3"
    assert rollout["1"][0:4] == ["1", "v-a", "v-b", "newest"] and rollout["1"][7] == "v-c"
    assert rollout["1"][8].startswith("finite: embeddings/items.npy")


@pytest.mark.asyncio
async def test_with_jwt_on_the_console_asks_for_a_login_and_shows_no_state() -> None:
    chromium = require_env("CHROMIUM_BIN")
    jwt = JwtConfig(
        secret="console-test-secret-of-at-least-32-bytes", users=(RestUser("ops", "ops-password", "admin"),)
    )
    server, shim, _port = await _start(RestShimConfig(port=0, jwt=jwt))
    try:
        page = _Tables()
        page.feed(await _dump_dom(chromium, f"http://127.0.0.1:{shim.port}/console"))
    finally:
        await server.shutdown()
    assert "display: block" in page.styles["login"]
    assert "Authorization" in page.texts["error"]
    assert page.tables["services"] == [] and page.texts["phase"] == "?"


@pytest.mark.asyncio
async def test_the_docs_page_lists_the_operations_of_the_openapi_document() -> None:
    chromium = require_env("CHROMIUM_BIN")
    async with RestShim(PopularRecommender(), RestShimConfig(port=0)) as shim:
        dom = await _dump_dom(chromium, f"http://127.0.0.1:{shim.port}/docs")
        operations = sum(len(item) for item in shim.app.openapi()["paths"].values())
    assert "dubbo-recsys REST shim 1.0.0" in dom
    for operation in ("<code>/recommend</code>", "<code>/infer</code>", "<code>/login</code>", "<code>/readyz</code>"):
        assert operation in dom, operation
    assert dom.count('<details class="op">') == operations  # one per operation, drawn by the page's script
