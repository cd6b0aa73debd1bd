"""The REST shim's HTTP app (FastAPI): routes onto one ``Recommender``, nothing more.

Routes (``/openapi.json`` documents them; ``/docs`` renders that document)::

    POST /recommend            RecommendBody -> RecommendAnswer   (?explain=true: per-stage traces)
    GET  /recommend            ?userId=&scene=&count=&explain=    the same, for a browser or curl
    POST /infer                the seed's RecRequest -> RecResponse (JSON)
    POST /login                {username, password} -> HS256 bearer token (404 when JWT is off;
                               429 + Retry-After past the failed-login limits: provider.rest.throttle)
    GET  /healthz /readyz      liveness (200 while the process answers, however loaded);
                               readiness (503 unless the provider is SERVING)
    GET  /metrics              Prometheus text (every worker's, labelled, with --workers N)
    GET  /console /console/try ...   the operator's pages and their JSON (provider.rest.console)

With JWT on, inference routes need a token of any role and the console's state an
``admin`` one; health, readiness, metrics and the documents stay open (probes and
scrapers carry no tokens). Each call reads top to bottom: check the token, convert
the body (pydantic did the validation: a wrong body never gets here), await the
recommender, convert the answer. The app holds no business logic.
"""

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dubbo_recsys.interfaces.recommend import RecommendResponse
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.interfaces.seed import RecRequest
from dubbo_recsys.provider.observability.metrics import CONTENT_TYPE, ProviderMetrics
from dubbo_recsys.provider.observability.recorded import ObservedRecommender
from dubbo_recsys.provider.observability.state import ProviderState
from dubbo_recsys.provider.rest.auth import Authenticator
from dubbo_recsys.provider.rest.config import RestShimConfig, Role
from dubbo_recsys.provider.rest.errors import AuthError
from dubbo_recsys.provider.rest.middleware import (
    BodyLimitMiddleware,
    ConcurrencyLimitMiddleware,
    RequestRecordingMiddleware,
)
from dubbo_recsys.provider.rest.models import (
    MAX_COUNT,
    ErrorAnswer,
    InferAnswer,
    InferBody,
    LoginBody,
    RecommendAnswer,
    RecommendBody,
    TokenAnswer,
)
from dubbo_recsys.provider.rest.throttle import LoginThrottle
from dubbo_recsys.provider.services import SeedInferService

__all__ = ["COUNTED_ROUTES", "build_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
# routes whose calls are counted as protocol "rest" (probes, scrapes and the console are not)
COUNTED_ROUTES = frozenset({"/recommend", "/infer", "/login"})
# answered whatever the load (ConcurrencyLimitMiddleware lets them in past its bound)
PROBES = frozenset({"/healthz", "/readyz"})
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorAnswer, "description": "missing, invalid or expired token (JWT on)"},
    403: {"model": ErrorAnswer, "description": "the token's role may not use this route"},
}


def build_app(
    recommender: Recommender,
    config: RestShimConfig,
    metrics: ProviderMetrics,
    state: ProviderState | None = None,
    tracer: Any = None,
) -> FastAPI:
    """The FastAPI app for ``recommender``; ``state`` feeds readiness and the console."""
    state = state if state is not None else metrics.state
    auth = Authenticator(config.jwt) if config.jwt is not None else None
    throttle = (
        LoginThrottle(config.login_limits, frozenset(u.name for u in config.jwt.users))
        if config.jwt is not None
        else None
    )
    observed = ObservedRecommender(
        recommender,
        metrics,
        "rest",
        interface="/recommend",
        trace_every=config.observability.trace_every,
        count_calls=False,
        inherit_request_id=True,
        tracer=tracer,
    )
    seed = SeedInferService(observed.labelled("/infer", "POST"))
    bearer = HTTPBearer(auto_error=False, description="a token from POST /login (only when JWT is on)")

    app = FastAPI(
        title="dubbo-recsys REST shim",
        version="1.0.0",
        description="Debugging and operations surface of a dubbo-recsys provider: the same recommender "
        "that answers dubbo:// and gRPC, over JSON.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    app.add_middleware(ConcurrencyLimitMiddleware, limit=config.max_concurrent_requests, exempt=PROBES)
    app.add_middleware(RequestRecordingMiddleware, metrics=metrics, counted=COUNTED_ROUTES)  # outermost

    def caller(role: str) -> Any:
        # async: a plain def dependency would run in a thread pool, a thread hop per request.
        # ``credentials`` is there so the OpenAPI document declares the bearer scheme.
        async def check(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
        ) -> dict[str, Any] | None:
            if auth is None:
                return None
            return auth.check(request.headers.get("authorization"), role)

        return check

    user = Depends(caller(Role.USER))
    admin = Depends(caller(Role.ADMIN))

    @app.exception_handler(RequestValidationError)
    async def malformed(_request: Request, error: RequestValidationError) -> JSONResponse:
        # where and what only: echoing the input could repeat a password, a huge body,
        # or a number JSON cannot carry (1e999 parses as inf)
        detail = [
            {
                "loc": [str(part) for part in problem.get("loc", ())],
                "msg": str(problem.get("msg", "")),
                "type": str(problem.get("type", "")),
            }
            for problem in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(AuthError)
    async def refused(_request: Request, error: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        return JSONResponse({"detail": str(error)}, status_code=error.status, headers=headers)

    async def answer(body: RecommendBody, explain: bool) -> JSONResponse:
        if explain and not config.explain:
            return JSONResponse({"detail": "explain mode is turned off on this provider"}, status_code=403)
        try:
            response: RecommendResponse = await observed.recommend(body.to_request(explain))
        except Exception as error:  # the recommender broke its promise not to raise
            log.exception("REST /recommend: recommender raised")
            return JSONResponse({"detail": f"recommender failed: {type(error).__name__}"}, status_code=500)
        shown = RecommendAnswer.of(response, explain or body.debug)
        status = response.code if 400 <= response.code <= 599 else 200
        return JSONResponse(shown.model_dump(mode="json", exclude_none=True), status_code=status)

    @app.post(
        "/recommend",
        response_model=RecommendAnswer,
        tags=["inference"],
        responses={**_ERRORS, 400: {"model": RecommendAnswer, "description": "the recommender refused"}},
        summary="Recommend for a user (our RecommendRequest as JSON)",
    )
    async def recommend_post(
        body: RecommendBody,
        _caller: Any = user,
        explain: Annotated[bool, Query(description="per-stage candidates, scores, timings")] = False,
    ) -> JSONResponse:
        return await answer(body, explain)

    @app.get(
        "/recommend",
        response_model=RecommendAnswer,
        tags=["inference"],
        responses=_ERRORS,
        summary="Recommend for a user, from query parameters",
    )
    async def recommend_get(
        userId: Annotated[str, Query(min_length=1, max_length=256)],
        _caller: Any = user,
        scene: Annotated[str, Query(max_length=256)] = "",
        count: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 10,
        explain: bool = False,
        debug: bool = False,
    ) -> JSONResponse:
        return await answer(RecommendBody(userId=userId, scene=scene, count=count, debug=debug), explain)

    @app.post(
        "/infer",
        response_model=InferAnswer,
        tags=["inference"],
        responses=_ERRORS,
        summary="The seed system's inference call (RecRequest -> RecResponse)",
    )
    async def infer(body: InferBody, _caller: Any = user) -> Any:
        request = RecRequest(
            userId=body.userId,
            dataId=body.dataId,
            groupId=body.groupId,
            namespaceId=body.namespaceId,
            exposureList=list(body.exposureList),
        )
        try:
            answer = await seed.RecommenderInfer(request)
        except Exception as error:  # the recommender broke its promise not to raise
            log.exception("REST /infer: recommender raised")
            return JSONResponse({"detail": f"recommender failed: {type(error).__name__}"}, status_code=500)
        return InferAnswer(code=int(answer.code), message=answer.message, data=list(answer.data))

    @app.post(
        "/login",
        response_model=TokenAnswer,
        tags=["auth"],
        responses={
            401: {"model": ErrorAnswer},
            404: {"model": ErrorAnswer, "description": "JWT is off"},
            429: {"model": ErrorAnswer, "description": "too many failed logins (Retry-After says when to retry)"},
        },
        summary="Exchange a user name and password for an HS256 bearer token",
    )
    async def login(body: LoginBody, request: Request) -> Any:
        if auth is None or throttle is None:
            return JSONResponse({"detail": "authentication is off on this provider"}, status_code=404)
        address = request.client.host if request.client else ""
        wait = throttle.retry_after(address, body.username)
        if wait:  # refused before the password is looked at: guessing gets no answer either way
            return JSONResponse(
                {"detail": f"too many failed logins; retry in {wait} s"},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        try:
            token, expires_in = auth.login(body.username, body.password)
        except AuthError:
            throttle.failed(address, body.username)
            raise
        throttle.succeeded(address, body.username)
        return TokenAnswer(access_token=token, expires_in=expires_in)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={503: {"description": "not serving (starting or draining)"}},
        summary="Readiness: true only while the provider is serving (false while draining)",
    )
    async def readyz() -> JSONResponse:
        return JSONResponse({"ready": state.ready, "phase": state.phase.value}, status_code=200 if state.ready else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
    async def prometheus(
        scope: Annotated[str, Query(description="'worker': this worker's alone (what siblings ask)")] = "",
    ) -> Response:
        if not config.sibling_sockets or scope == "worker":
            return Response(metrics.exposition(), media_type=CONTENT_TYPE)
        from dubbo_recsys.provider.observability.workers import fetch_exposition, merge_expositions

        siblings = await asyncio.gather(*(fetch_exposition(path) for _, path in config.sibling_sockets))
        documents: list[tuple[str, bytes | None]] = [(config.worker, metrics.exposition())]
        documents += [(worker, body) for (worker, _), body in zip(config.sibling_sockets, siblings, strict=True)]
        return Response(merge_expositions(documents), media_type=CONTENT_TYPE)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", media_type="text/html")

    if config.console:
        from dubbo_recsys.provider.rest.console import console_router

        app.include_router(console_router(state, metrics, config, recommender, admin), responses=_ERRORS)

    return app
