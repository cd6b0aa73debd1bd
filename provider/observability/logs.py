"""Structured logs: one JSON object per line, carrying the request id of the call being served.

``request_id`` is a context variable: the REST app and ``recorded.ObservedRecommender``
set it for the duration of a request, and every log record written meanwhile (the
pipeline's "pipeline failed" warnings, say) carries it, because asyncio copies the
context into the tasks a request starts. ``RequestIdFilter`` stamps the id on each
record when it is emitted, in the caller's context, so a formatter that runs later
(another thread, a queue) still has it. ``configure_json_logs`` installs both on the
root handler; nothing here changes log levels elsewhere.
"""

from __future__ import annotations

import contextvars
import json
import logging
import random
import sys
import time
from typing import Any

__all__ = [
    "JsonLogFormatter",
    "RequestIdFilter",
    "ThrottledLog",
    "configure_json_logs",
    "new_request_id",
    "request_id",
]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("dubbo_recsys_request_id", default="")

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def new_request_id() -> str:
    """32 hex digits, random enough to correlate log lines (not a secret: no urandom call per request)."""
    return f"{random.getrandbits(128):032x}"


class RequestIdFilter(logging.Filter):
    """Stamps ``record.requestId`` with the current request id (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "requestId", ""):
            record.requestId = request_id.get()
        return True


class JsonLogFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "requestId", ...extra, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = getattr(record, "requestId", "") or request_id.get()
        if current:
            document["requestId"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "requestId" and not key.startswith("_"):
                document[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            document["exc"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def configure_json_logs(level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """Write the root logger's records as JSON lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


class ThrottledLog:
    """A logger's ``warning``/``info`` at most ``burst`` times per ``period`` seconds per message format.

    For what peers cause (bad magic, refused connections, stalled frames): each is worth a
    line, but a peer that causes thousands a second must not fill the disk or spend the
    event loop on log I/O. Beyond the burst, records are counted and the next one let
    through says how many were left out.
    """

    def __init__(self, logger: logging.Logger, burst: int = 20, period: float = 60.0) -> None:
        self.logger = logger
        self.burst = burst
        self.period = period
        self._windows: dict[str, list[float]] = {}  # format -> [window start, count, suppressed]

    def _allow(self, message: str) -> int:
        """-1 to drop; otherwise how many records of this format were dropped before this one."""
        now = time.monotonic()
        window = self._windows.get(message)
        if window is None:
            if len(self._windows) >= 256:  # formats are our own string literals, but stay bounded anyway
                self._windows.clear()
            window = self._windows[message] = [now, 0.0, 0.0]
        if now - window[0] >= self.period:
            window[0], window[1] = now, 0.0
        window[1] += 1
        if window[1] > self.burst:
            window[2] += 1
            return -1
        dropped, window[2] = int(window[2]), 0.0
        return dropped

    def _log(self, level: int, message: str, args: tuple[Any, ...], exc_info: bool = False) -> None:
        if not self.logger.isEnabledFor(level):
            return
        dropped = self._allow(message)
        if dropped < 0:
            return
        if dropped:
            message = f"{message} ({dropped} more like this not logged)"
        self.logger.log(level, message, *args, exc_info=exc_info)

    def exception(self, message: str, *args: Any) -> None:
        self._log(logging.ERROR, message, args, exc_info=True)

    def warning(self, message: str, *args: Any) -> None:
        self._log(logging.WARNING, message, args)

    def info(self, message: str, *args: Any) -> None:
        self._log(logging.INFO, message, args)
