"""A Python dubbo:// consumer: one connection, calls multiplexed by request id.

Used by the tests, the ``call`` command and the benchmarks; it speaks exactly what
a Java 2.7/3.x consumer speaks (dubbo version ``2.0.2``, hessian2, the usual
attachments), so what works from here works from Java unless the codec differs.

::

    async with await DubboClient.connect("127.0.0.1", 20880) as client:
        response = await client.call(
            "org.dubborecsys.api.RecommendService", "recommend", [request],
            parameter_types=["org.dubborecsys.api.RecommendRequest"], version="1.0.0",
        )

Failures raise ``RemoteStatusError`` (non-OK status), ``RemoteApplicationError``
(the provider's method threw), ``RemoteTimeoutError`` or ``ConnectionLostError``.
A heartbeat goes out after ``heartbeat_interval`` with nothing read, as Java does;
a READONLY event from the provider sets ``readonly``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

from dubbo_recsys.provider.body import ResultFlag, decode_message, decode_result, encode_invocation
from dubbo_recsys.provider.config import ClientConfig
from dubbo_recsys.provider.descriptor import to_descriptor
from dubbo_recsys.provider.dispatch import GENERIC_DESCRIPTOR, Invocation
from dubbo_recsys.provider.errors import (
    ConnectionLostError,
    FrameError,
    RemoteApplicationError,
    RemoteStatusError,
    RemoteTimeoutError,
)
from dubbo_recsys.provider.protocol import (
    NEED_DATA,
    ConnectionClosed,
    FrameReader,
    OversizedFrame,
    RequestFrame,
    ResponseFrame,
    Status,
    encode_heartbeat_request,
    encode_request,
)

__all__ = ["DubboClient"]


class DubboClient(asyncio.Protocol):
    def __init__(self, config: ClientConfig, application: str = "dubbo-recsys-client") -> None:
        self.config = config
        self.application = application
        self.readonly = False
        self._reader = FrameReader(config.payload_limit)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[ResponseFrame]] = {}
        self._transport: asyncio.Transport | None = None
        self._closed: asyncio.Future[None] | None = None
        self._last_read = time.monotonic()
        self._heartbeat_task: asyncio.Task[None] | None = None
        self.host = ""
        self.port = 0

    @classmethod
    async def connect(
        cls, host: str, port: int, config: ClientConfig | None = None, application: str = "dubbo-recsys-client"
    ) -> DubboClient:
        loop = asyncio.get_running_loop()
        client = cls(config or ClientConfig(), application)
        client.host, client.port = host, port
        client._closed = loop.create_future()
        await asyncio.wait_for(loop.create_connection(lambda: client, host, port), client.config.connect_timeout)
        client._heartbeat_task = asyncio.create_task(client._heartbeats())
        return client

    async def __aenter__(self) -> DubboClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- calls ---------------------------------------------------------------------------------

    async def call(
        self,
        interface: str,
        method: str,
        args: Iterable[Any] = (),
        *,
        parameter_types: Iterable[str] = (),
        version: str = "",
        group: str = "",
        timeout: float | None = None,
        attachments: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call and return the value; ``parameter_types`` are Java names, one per argument."""
        descriptor = to_descriptor(parameter_types)
        frame = await self.request(
            self._invocation(interface, method, descriptor, tuple(args), version, group, timeout, attachments),
            timeout=timeout,
        )
        return self._result(frame)

    async def call_oneway(
        self,
        interface: str,
        method: str,
        args: Iterable[Any] = (),
        *,
        parameter_types: Iterable[str] = (),
        version: str = "",
        group: str = "",
    ) -> None:
        invocation = self._invocation(
            interface, method, to_descriptor(parameter_types), tuple(args), version, group, None, None
        )
        self._write(
            encode_request(
                next(self._ids), encode_invocation(invocation), two_way=False, payload_limit=self.config.payload_limit
            )
        )

    async def echo(self, interface: str, value: Any, *, version: str = "", group: str = "") -> Any:
        return await self.call(
            interface, "$echo", [value], parameter_types=["java.lang.Object"], version=version, group=group
        )

    async def generic_invoke(
        self,
        interface: str,
        method: str,
        parameter_types: list[str],
        args: list[Any],
        *,
        version: str = "",
        group: str = "",
        timeout: float | None = None,
    ) -> Any:
        """``GenericService.$invoke``: POJOs as maps with ``"class"``, results likewise."""
        invocation = self._invocation(
            interface,
            "$invoke",
            GENERIC_DESCRIPTOR,
            (method, list(parameter_types), list(args)),
            version,
            group,
            timeout,
            {"generic": "true"},
        )
        return self._result(await self.request(invocation, timeout=timeout))

    async def heartbeat(self, timeout: float | None = None) -> float:
        """Send a heartbeat and return the round trip in seconds."""
        started = time.perf_counter()
        request_id = next(self._ids)
        frame = await self._exchange(request_id, encode_heartbeat_request(request_id), timeout)
        if not frame.event or frame.status != Status.OK:
            raise RemoteStatusError(frame.status, "heartbeat answered with a non-event response")
        return time.perf_counter() - started

    async def request(self, invocation: Invocation, timeout: float | None = None) -> ResponseFrame:
        """Send one invocation and return the raw response frame (for tests and tools)."""
        request_id = next(self._ids)
        data = encode_request(request_id, encode_invocation(invocation), payload_limit=self.config.payload_limit)
        return await self._exchange(request_id, data, timeout)

    async def send_raw(self, data: bytes, request_id: int, timeout: float | None = None) -> ResponseFrame:
        """Write bytes as they are and wait for the answer to ``request_id`` (tests only)."""
        return await self._exchange(request_id, data, timeout)

    def next_request_id(self) -> int:
        return next(self._ids)

    async def close(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
        if self._transport is not None:
            self._transport.close()
        if self._closed is not None:
            await asyncio.shield(self._closed)

    @property
    def is_closed(self) -> bool:
        return self._closed is None or self._closed.done()

    # -- internals -------------------------------------------------------------------------------

    def _invocation(
        self,
        interface: str,
        method: str,
        descriptor: str,
        args: tuple[Any, ...],
        version: str,
        group: str,
        timeout: float | None,
        attachments: Mapping[str, Any] | None,
    ) -> Invocation:
        attached: dict[str, Any] = {"path": interface, "interface": interface, "remote.application": self.application}
        if version:
            attached["version"] = version
        if group:
            attached["group"] = group
        attached["timeout"] = str(int((timeout or self.config.timeout) * 1000))
        attached.update(attachments or {})
        return Invocation("2.0.2", interface, version or "0.0.0", method, descriptor, args, attached)

    async def _exchange(self, request_id: int, data: bytes, timeout: float | None) -> ResponseFrame:
        if self.is_closed:
            raise ConnectionLostError(f"connection to {self.host}:{self.port} is closed")
        future: asyncio.Future[ResponseFrame] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self._write(data)
            return await asyncio.wait_for(future, timeout or self.config.timeout)
        except TimeoutError:
            raise RemoteTimeoutError(
                f"no answer to request {request_id} from {self.host}:{self.port} "
                f"within {timeout or self.config.timeout:g} s"
            ) from None
        finally:
            self._pending.pop(request_id, None)

    def _result(self, frame: ResponseFrame) -> Any:
        if frame.status != Status.OK:
            raise RemoteStatusError(frame.status, decode_message(frame.body))
        flag, value, _ = decode_result(frame.body)
        if flag in (ResultFlag.EXCEPTION, ResultFlag.EXCEPTION_WITH_ATTACHMENTS):
            java_class = getattr(value, "java_class", type(value).__name__)
            message = getattr(value, "message", None)
            if message is None:  # an exception object the codec did not recognise as one
                message = (getattr(value, "fields", None) or {}).get("detailMessage")
            raise RemoteApplicationError(value, f"{java_class}: {message}")
        return value

    def _write(self, data: bytes) -> None:
        if self._transport is None or self.is_closed:
            raise ConnectionLostError(f"connection to {self.host}:{self.port} is closed")
        self._transport.write(data)

    async def _heartbeats(self) -> None:
        interval = self.config.heartbeat_interval
        while True:
            await asyncio.sleep(interval / 3)
            idle = time.monotonic() - self._last_read
            if idle >= 3 * interval:
                if self._transport is not None:
                    self._transport.close()  # Java reconnects after three missed heartbeats
                return
            if idle >= interval:
                request_id = next(self._ids)
                try:
                    self._write(encode_heartbeat_request(request_id))
                except ConnectionLostError:
                    return

    # -- asyncio.Protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._last_read = time.monotonic()
        self._reader.receive_data(data)
        while True:
            try:
                event = self._reader.next_event()
            except FrameError as exc:
                self._fail_all(ConnectionLostError(f"provider broke framing: {exc}"))
                if self._transport is not None:
                    self._transport.close()
                return
            if event is NEED_DATA or isinstance(event, ConnectionClosed):
                return
            if isinstance(event, ResponseFrame):
                future = self._pending.get(event.request_id)
                if future is not None and not future.done():
                    future.set_result(event)
            elif isinstance(event, RequestFrame):
                if event.is_readonly:
                    self.readonly = True
            elif isinstance(event, OversizedFrame) and not event.is_request:
                future = self._pending.get(event.request_id)
                if future is not None and not future.done():
                    future.set_exception(
                        RemoteStatusError(
                            Status.CLIENT_ERROR, f"response of {event.length} bytes exceeds the payload limit"
                        )
                    )

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(ConnectionLostError(f"connection to {self.host}:{self.port} lost: {exc or 'closed'}"))
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()

    def _fail_all(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
