"""Helpers shared by the test packages.

Integration tests need real peers (Redis, Nacos, Java builds) that
``tests/run_all.sh`` starts and announces through environment variables.
``require_env`` skips such a test on a developer machine without the peer, but
fails it under CI, so a missing peer can never hide behind a skip there.
"""

from __future__ import annotations

import os
import socket

import pytest


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    message = f"{name} is not set: start the peer with tests/run_all.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
