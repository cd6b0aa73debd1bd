"""A fleet following one publish: providers registered in the real Nacos, the pin a Nacos config they watch.

Shared by tests/rollout/test_fleet.py and bench/rollout/run_bench.py. ``Fleet`` starts ``providers``
``dubbo-recsys serve --artifact-root ROOT --registry nacos://...`` processes (one worker each) in a Nacos
group of their own, with a pin dataId of their own (tests and runs sharing the server never meet), and
reads what each one serves back from its Nacos instance metadata (``artifacts.version``, through the
Open API: an independent door). ``follow`` runs one ``dubbo-recsys publish`` or ``rollback`` and times,
per provider, from the command's return to its metadata naming the version.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.java_sample.provider_process import REPO_ROOT, RunningProvider
from tests.java_sample.provider_process import _stop as stop
from tests.java_sample.provider_process import _wait_ready as wait_ready
from tests.nacos_e2e.providers import RECOMMEND_SERVICE, registry_url, serve_registered, unique_group
from tests.registry.openapi import OpenApi
from tests.rollout.harness import dubbo_recsys


@dataclass
class Fleet:
    nacos: str
    root: Path
    group: str
    pin_data_id: str
    providers: list[RunningProvider]

    @property
    def registry(self) -> str:
        return registry_url(self.nacos, self.group)

    def pin_flags(self) -> list[str]:
        return ["--artifact-root", str(self.root), "--registry", self.registry, "--pin-data-id", self.pin_data_id]

    def metadata(self) -> dict[int, dict[str, Any]]:
        """Instance metadata by port, as Nacos holds it now."""
        hosts = OpenApi(self.nacos).instances(RECOMMEND_SERVICE, self.group)
        return {int(h["port"]): dict(h.get("metadata") or {}) for h in hosts}

    def serving(self) -> dict[int, str]:
        return {port: m.get("artifacts.version", "") for port, m in self.metadata().items()}

    def wait(self, version: str, seconds: float, since: float | None = None) -> dict[int, float]:
        """Seconds from ``since`` (default now) until each provider's metadata names ``version``."""
        since = time.monotonic() if since is None else since
        arrived: dict[int, float] = {}
        ports = {p.port for p in self.providers}
        while time.monotonic() - since < seconds and set(arrived) != ports:
            for port, serving in self.serving().items():
                if serving == version and port not in arrived:
                    arrived[port] = time.monotonic() - since
            time.sleep(0.1)
        if set(arrived) != ports:
            raise TimeoutError(f"not every provider serves {version} after {seconds} s: {self.serving()}")
        return arrived

    def wait_for(self, accept: Any, seconds: float) -> dict[int, dict[str, Any]]:
        """Each provider's metadata once ``accept(metadata)`` holds for all of them."""
        deadline = time.monotonic() + seconds
        found: dict[int, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            found = self.metadata()
            if len(found) == len(self.providers) and all(accept(m) for m in found.values()):
                return found
            time.sleep(0.1)
        raise TimeoutError(f"the providers' metadata never matched within {seconds} s: {found}")

    def follow(self, command: str, *args: str, version: str, seconds: float = 60.0) -> dict[int, float]:
        """Run ``dubbo-recsys publish|rollback ...`` and time each provider until it serves ``version``."""
        dubbo_recsys(command, *self.pin_flags(), *args)
        return self.wait(version, seconds)


@contextlib.contextmanager
def fleet(
    nacos: str, root: Path, work: Path, providers: int = 2, ready: float = 180.0, pin: str = ""
) -> Iterator[Fleet]:
    """``providers`` serve processes on ``root``, started together, registered in Nacos and listed there.

    ``pin``: a version published before they start (they come up on it)."""
    group, pin_data_id = unique_group("rollout"), f"dubbo-recsys.artifacts.{uuid.uuid4().hex[:8]}"
    registry = registry_url(nacos, group)
    if pin:
        dubbo_recsys(
            "publish",
            "--artifact-root",
            str(root),
            "--registry",
            registry,
            "--pin-data-id",
            pin_data_id,
            "--version",
            pin,
        )
    flags = ["--artifact-root", str(root), "--pin-data-id", pin_data_id, "--rollout-poll", "1"]
    processes: list[subprocess.Popen[bytes]] = []
    logs = [work / f"provider-{n}.log" for n in range(providers)]
    try:
        for path in logs:
            with open(path, "wb") as log:
                processes.append(
                    subprocess.Popen(
                        serve_registered(registry, "rollout-fleet", *flags),
                        cwd=REPO_ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        running = [wait_ready(process, path, ready) for process, path in zip(processes, logs, strict=True)]
        fleet_ = Fleet(nacos, root, group, pin_data_id, running)
        deadline = time.monotonic() + 60
        while len(fleet_.metadata()) < providers and time.monotonic() < deadline:
            time.sleep(0.2)
        yield fleet_
    finally:
        for process in processes:
            stop(process)
