"""Headless Chromium driven over the DevTools protocol on a pipe: load a page, wait, read it, screenshot it.

``--remote-debugging-pipe`` makes Chromium read protocol commands from file descriptor 3
and write its answers to 4, each a JSON document ended by a NUL byte, so no websocket
library and no debugging port are needed. One ``Browser`` is one Chromium process with
a fresh profile; ``page(url)`` opens a tab at a fixed size and device scale 1 (a CSS
pixel is a screenshot pixel), ``wait_for(expression)`` polls a JavaScript expression
until it is true, ``evaluate`` returns a JSON value, ``screenshot(path)`` writes the
whole page as PNG. Blocking calls: async tests run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--hide-scrollbars",
    "--font-render-hinting=none",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, went away, or a wait ran out."""


class Browser:
    def __init__(self, chromium: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="console-chromium-")
        to_chromium_read, self._to_chromium = os.pipe()
        self._from_chromium, from_chromium_write = os.pipe()

        def descriptors() -> None:  # in the child: its 3 reads our commands, its 4 writes answers
            high_read = fcntl.fcntl(to_chromium_read, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            high_write = fcntl.fcntl(from_chromium_write, fcntl.F_DUPFD, 10)
            os.dup2(high_read, 3)  # dup2 leaves the copy inheritable: it survives exec
            os.dup2(high_write, 4)

        self._process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=descriptors,  # noqa: PLW1509 - no threads start between fork and exec here
            close_fds=False,  # our other descriptors are non-inheritable (PEP 446) and close at exec anyway
        )
        os.close(to_chromium_read)
        os.close(from_chromium_write)
        self._buffer = b""
        self._ids = 0
        self._session = ""

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self._send("Browser.close", {}, session=False, wait=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        for fd in (self._to_chromium, self._from_chromium):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

    # -- pages ---------------------------------------------------------------------------------

    def page(self, url: str, width: int = 1300, height: int = 2200) -> None:
        """Open ``url`` in a new tab of ``width`` x ``height`` CSS pixels and wait for it to load."""
        target = self._send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        attached = self._send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
        self._session = attached["sessionId"]
        self._send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self._send("Page.enable", {})
        self._send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises awaited)."""
        answer = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression}: {answer['exceptionDetails']}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.evaluate(f"Boolean({expression})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"not true within {timeout or self.timeout} s: {expression}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        """The whole page (not only the viewport) as a PNG file."""
        answer = self._send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(answer["data"]))
        return path

    # -- the pipe ------------------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any], session: bool = True, wait: bool = True) -> Any:
        self._ids += 1
        message: dict[str, Any] = {"id": self._ids, "method": method, "params": params}
        if session and self._session:
            message["sessionId"] = self._session
        os.write(self._to_chromium, json.dumps(message).encode() + b"\0")
        if not wait:
            return None
        deadline = time.monotonic() + self.timeout
        while True:
            for document in self._messages(deadline):
                if document.get("id") == self._ids:
                    if "error" in document:
                        raise BrowserError(f"{method}: {document['error']}")
                    return document.get("result", {})

    def _messages(self, deadline: float) -> list[dict[str, Any]]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._from_chromium, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium went away (exit {self._process.poll()})")
            self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\0")
        return [json.loads(part) for part in complete if part]
