"""The console's routes: static pages and the JSON they read, nothing computed here.

::

    GET /console                      the operator's page (charts and tables; console.html + console.js)
    GET /console/try                  the try-it page: one request explained stage by stage (try.html + try.js)
    GET /console/static/NAME          the pages' scripts, styles and the vendored uPlot (a fixed list)
    GET /console/state                services, registry, calls per method, breakers, versions, realtime,
                                      rollout, and one row per worker (``observability.fleet``)
    GET /console/series               the last 15 minutes for the charts (``observability.history``)
    GET /console/choices              users and scenes the try-it page offers
    GET /console/explain?path=dubbo   one recommend call over this provider's own dubbo:// port, with
                                      debug on, answered like ``/recommend?explain=true`` (the REST path)

``state`` and ``series`` take ``?scope=worker`` for this worker alone; without it,
with ``serve --workers N``, they gather every sibling's over its Unix socket (the
caller's token goes along) so the page shows the fleet. The JSON routes need an
``admin`` token when JWT is on, like the state always did. The dubbo:// call uses
the project's client (``provider.client.DubboClient``) exactly as a Java consumer
would call, so the try-it page shows what a Java caller gets.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from dubbo_recsys.interfaces.recommend import INTERFACE, MAX_COUNT, VERSION, RecommendRequest
from dubbo_recsys.provider.observability.fleet import fleet_state, worker_documents
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.observability.sources import try_choices
from dubbo_recsys.provider.observability.state import ProviderState
from dubbo_recsys.provider.rest.config import RestShimConfig
from dubbo_recsys.provider.rest.models import RecommendAnswer

__all__ = ["STATIC_FILES", "console_router"]

STATIC = Path(__file__).with_name("static")
STATIC_FILES = {  # name -> media type; nothing else under static/ is served
    "console.js": "text/javascript",
    "charts.js": "text/javascript",
    "try.js": "text/javascript",
    "console.css": "text/css",
    "uPlot.iife.min.js": "text/javascript",
    "uPlot.min.css": "text/css",
    "uPlot.LICENSE": "text/plain",
}
REQUEST_TYPE = "org.dubborecsys.api.RecommendRequest"
_EXPLAIN_TIMEOUT = 10.0  # seconds for the try-it page's dubbo:// call (debug answers of the whole funnel)


def console_router(
    state: ProviderState, metrics: ProviderMetrics, config: RestShimConfig, recommender: Any, admin: Any
) -> APIRouter:
    """The console's routes; ``admin`` is the dependency that checks an admin token (or nothing)."""
    router = APIRouter(prefix="/console")

    @router.get("", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(STATIC / "console.html", media_type="text/html")

    @router.get("/try", include_in_schema=False)
    async def try_page() -> FileResponse:
        return FileResponse(STATIC / "try.html", media_type="text/html")

    @router.get("/console.js", include_in_schema=False)  # the first console page's address, kept
    async def console_js() -> FileResponse:
        return FileResponse(STATIC / "console.js", media_type="text/javascript")

    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Any:
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(STATIC / name, media_type=media_type)

    @router.get(
        "/state",
        tags=["operations"],
        summary="What the console shows: services, registry, calls per method, breakers, versions, workers",
    )
    async def console_state(
        request: Request,
        _caller: Any = admin,
        scope: Annotated[str, Query(description="'worker': this worker's alone")] = "",
    ) -> dict[str, Any]:
        own = state.snapshot()
        own["methods"] = metrics.method_table()
        own["auth"] = config.jwt is not None
        if scope == "worker":
            return own
        siblings = await _siblings(config, request, "/console/state?scope=worker")
        return fleet_state(worker_documents((config.worker or "0", own), siblings))

    @router.get("/series", tags=["operations"], summary="The console's charts: the last 15 minutes per step")
    async def console_series(
        request: Request,
        _caller: Any = admin,
        scope: Annotated[str, Query(description="'worker': this worker's raw history alone")] = "",
    ) -> dict[str, Any]:
        from dubbo_recsys.provider.observability.history import merge_raw

        own = metrics.history.raw()
        if scope == "worker":
            return own
        siblings = await _siblings(config, request, "/console/series?scope=worker")
        answered = [raw for _, raw in siblings if raw is not None]
        view = metrics.chart_view(merge_raw([own, *answered]) if answered else own)
        view["workers"] = [config.worker or "0", *(label for label, raw in siblings if raw is not None)]
        view["missingWorkers"] = [label for label, raw in siblings if raw is None]
        return view

    @router.get("/choices", tags=["operations"], summary="Users and scenes the try-it page offers")
    async def choices(_caller: Any = admin) -> dict[str, list[str]]:
        return try_choices(recommender)

    @router.get(
        "/explain",
        tags=["operations"],
        response_model=RecommendAnswer,
        summary="One recommend call over this provider's dubbo:// port, explained stage by stage",
    )
    async def explain_over_dubbo(
        userId: Annotated[str, Query(min_length=1, max_length=256)],
        _caller: Any = admin,
        scene: Annotated[str, Query(max_length=256)] = "",
        count: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 10,
    ) -> JSONResponse:
        if not config.explain:
            return JSONResponse({"detail": "explain mode is turned off on this provider"}, status_code=403)
        if not state.dubbo_address:
            return JSONResponse({"detail": "no dubbo:// port beside this REST shim"}, status_code=503)
        from dubbo_recsys.provider.client import DubboClient
        from dubbo_recsys.provider.errors import ProviderError

        host, _, port = state.dubbo_address.rpartition(":")
        host = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host.strip("[]")
        request = RecommendRequest(userId=userId, scene=scene, count=count, debug=True)
        try:
            async with await DubboClient.connect(host, int(port), application="dubbo-recsys-console") as client:
                response = await client.call(
                    INTERFACE,
                    "recommend",
                    [request],
                    parameter_types=[REQUEST_TYPE],
                    version=VERSION,
                    timeout=_EXPLAIN_TIMEOUT,
                )
        except (OSError, TimeoutError, ProviderError) as error:
            return JSONResponse({"detail": f"dubbo:// call failed: {type(error).__name__}: {error}"}, status_code=502)
        shown = RecommendAnswer.of(response, True)
        status = response.code if 400 <= response.code <= 599 else 200
        return JSONResponse(shown.model_dump(mode="json", exclude_none=True), status_code=status)

    return router


async def _siblings(config: RestShimConfig, request: Request, target: str) -> list[tuple[str, Any]]:
    """``[(label, JSON document or None)]`` from every sibling worker (none without ``--workers``)."""
    if not config.sibling_sockets:
        return []
    from dubbo_recsys.provider.observability.workers import fetch_from_worker

    token = request.headers.get("authorization")
    headers = [("Authorization", token)] if token else []
    bodies = await asyncio.gather(*(fetch_from_worker(path, target, headers) for _, path in config.sibling_sockets))
    found: list[tuple[str, Any]] = []
    for (label, _path), body in zip(config.sibling_sockets, bodies, strict=True):
        try:
            found.append((label, json.loads(body) if body is not None else None))
        except ValueError:
            found.append((label, None))
    return found
