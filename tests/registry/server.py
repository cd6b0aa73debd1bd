"""A Nacos server of a test's own, for the tests that stop and restart it.

The suite-wide server (NACOS_ADDR) is shared, so a test that restarts Nacos starts a second one with
the same launcher (NACOS_LAUNCHER, set by tests/ci/30-nacos.sh) on a free base port whose companions
(port + 1000 gRPC, + 1001 cluster gRPC, - 1000 JRaft) are free too.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_nacos_port() -> int:
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if 2000 < port < 64000 and all(_free(p) for p in (port, port + 1000, port + 1001, port - 1000)):
            return port
    raise RuntimeError("no free port quadruple for a Nacos server")


class OwnNacos:
    """``auth=True`` starts it with authentication on (``NACOS_AUTH=1 nacos.sh start``); see tests/registry/auth.py."""

    def __init__(self, launcher: str, home: Path, *, auth: bool = False) -> None:
        self.launcher = launcher
        self.home = home
        self.auth = auth
        self.port = free_nacos_port()

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, NACOS_AUTH="1" if self.auth else "0")
        subprocess.run(
            ["bash", self.launcher, "start", str(self.port), str(self.home)], check=True, timeout=30, env=env
        )
        waited = subprocess.run(["bash", self.launcher, "wait", str(self.port), "120"], timeout=150, check=False)
        if waited.returncode != 0:
            log = (self.home / "server.out").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"own Nacos on {self.addr} did not start:\n{log}")

    def stop(self) -> None:
        subprocess.run(["bash", self.launcher, "stop", str(self.home)], check=True, timeout=30)
