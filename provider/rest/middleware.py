"""Small ASGI middlewares of the REST shim: a body size bound, a bound on requests at once, recording.

``BodyLimitMiddleware`` reads a request body up to ``max_bytes`` before the app
sees it and answers 413 beyond that (whether or not ``Content-Length`` told the
truth), so a huge or endless body costs bounded memory and never reaches pydantic.

``ConcurrencyLimitMiddleware`` lets at most ``limit`` requests into the app at once and
answers the rest 503 with ``Retry-After: 1`` straight away; the paths in ``exempt`` (the
probes) always get in, so load never makes a liveness probe fail (``provider.rest.guard``).

``RequestRecordingMiddleware`` gives every request an id (a sane ``X-Request-Id``
header is kept, anything else replaced), sets it in the logging context, echoes it
in the response, and, for the routes in ``counted``, counts and times the call as
protocol ``rest`` with the path as interface and the HTTP verb as method. The
paths counted are fixed strings, so labels stay bounded whatever URLs arrive.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dubbo_recsys.provider.observability.logs import new_request_id, request_id
from dubbo_recsys.provider.observability.metrics import ProviderMetrics

__all__ = ["BodyLimitMiddleware", "ConcurrencyLimitMiddleware", "RequestRecordingMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("dubbo_recsys.provider.rest.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


async def _send_json(
    send: Send, status: int, document: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_large = {"detail": f"request body larger than {self.max_bytes} bytes"}
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit():
                    await _send_json(send, 400, {"detail": "bad Content-Length"})
                    return
                if int(value) > self.max_bytes:
                    await _send_json(send, 413, too_large)
                    return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # only http.disconnect can follow
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


class ConcurrencyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int, exempt: frozenset[str]) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.active = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            self.refused += 1
            await _send_json(send, 503, {"detail": "too many requests at once; retry"}, [(b"retry-after", b"1")])
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


class RequestRecordingMiddleware:
    def __init__(self, app: ASGIApp, metrics: ProviderMetrics, counted: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.counted = counted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), "")
        current = given if _REQUEST_ID.fullmatch(given) else new_request_id()
        token = request_id.set(current)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", current.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            path, verb = scope.get("path", ""), scope.get("method", "")
            if path in self.counted:
                self.metrics.observe_call("rest", path, verb, str(status), seconds)
            access_log.info(
                "%s %s %d %.1f ms",
                verb,
                path,
                status,
                seconds * 1000.0,
                extra={"http.method": verb, "http.path": path, "http.status": status},
            )
            request_id.reset(token)
