"""Structured logs: one JSON object per line, carrying the request id of the call being served.

``request_id`` is a context variable: the REST app and ``recorded.ObservedRecommender``
set it for the duration of a request, and every log record written meanwhile (the
pipeline's "pipeline failed" warnings, say) carries it, because asyncio copies the
context into the tasks a request starts. ``configure_json_logs`` swaps the root
handler's formatter; nothing here changes log levels elsewhere.
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from typing import Any

__all__ = ["request_id", "new_request_id", "JsonLogFormatter", "configure_json_logs"]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("dubbo_recsys_request_id", default="")

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def new_request_id() -> str:
    return uuid.uuid4().hex


class JsonLogFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "requestId", ...extra, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current:
            document["requestId"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                document[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            document["exc"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def configure_json_logs(level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """Write the root logger's records as JSON lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
