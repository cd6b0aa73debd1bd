"""A served ``dubbo-recsys serve`` process to attack, and the runs that measure it.

``Served`` starts the command on free ports, knows the whole process tree (the
supervisor and its workers with ``--workers N``) and reads its resident memory from
``/proc``. ``measure(served, attack, seconds)`` runs one attacker process and the good
consumer beside it and returns what each saw plus the server's RSS before, at the
peak during, and after the attack (once it settled, or after ``settle`` seconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
LISTENING = re.compile(r"listening (dubbo|http|grpc)://[^:]+:(\d+)")
WORKERS = re.compile(r"workers \d+ pids ([\d,]+)")


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def module_process(module: str, *argv: str, **popen: Any) -> subprocess.Popen[str]:
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([sys.executable, "-m", module, *argv], cwd=REPO, env=python_env(), text=True, **options)


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return found


def cpu_seconds(pid: int) -> tuple[float, float]:
    """Seconds ``pid`` ran and seconds it waited, runnable, for a CPU (``/proc/PID/schedstat``).

    The wait says how much of a latency is the machine's: on a shared 2-core machine a server
    with work to do waits for a core however fair it is between its own callers."""
    try:
        with open(f"/proc/{pid}/schedstat") as handle:
            ran, waited, _ = handle.read().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(ran) / 1e9, int(waited) / 1e9


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Served:
    """A running ``serve``; its stdout is collected in ``lines`` and stderr goes to ``log`` (a file, so
    a flood of warnings can never fill a pipe and stall the server)."""

    proc: subprocess.Popen[str]
    ports: dict[str, int]
    log: Any = None
    lines: list[str] = field(default_factory=list)
    _stderr: str = ""

    def stderr(self) -> str:
        if self.log.closed:
            return self._stderr
        self.log.flush()
        self.log.seek(0)
        return str(self.log.read())

    @property
    def port(self) -> int:
        return self.ports["dubbo"]

    def pids(self) -> list[int]:
        return [self.proc.pid, *children(self.proc.pid)]

    def rss_mib(self) -> float:
        return round(sum(rss_mib(pid) for pid in self.pids()), 1)

    def cpu_seconds(self) -> tuple[float, float]:
        """Seconds run and seconds waited for a CPU, over the supervisor and its workers."""
        both = [cpu_seconds(pid) for pid in self.pids()]
        return sum(ran for ran, _ in both), sum(waited for _, waited in both)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            if not self.log.closed:
                self._stderr = self.stderr()
                self.log.close()


def _collect(stream: Any, lines: list[str]) -> None:
    lines.extend(stream)


def serve(*argv: str, timeout: float = 60, tree: Path | None = None) -> Served:
    """``dubbo-recsys serve --port 0 ARGV``, returned once it printed its dubbo:// listening line.

    ``tree``: serve another checkout's code with its own ``.venv`` (a benchmark's "before"),
    run from there so nothing of this checkout shadows it."""
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - open as long as the process, closed with it
    command = ["dubbo_recsys.provider.cli", "serve", "--port", "0", *argv]
    if tree is None:
        proc = module_process(*command, stderr=log)
    else:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        python = str(tree / ".venv" / "bin" / "python")
        proc = subprocess.Popen(
            [python, "-m", *command], cwd=tree, env=env, text=True, stdout=subprocess.PIPE, stderr=log
        )
    served = Served(proc, {}, log)
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        served.lines.append(line)
        match = LISTENING.search(line)
        if match:
            served.ports[match.group(1)] = int(match.group(2))
            if match.group(1) == "dubbo":
                if "--workers" in argv:  # the pids line follows
                    served.lines.append(proc.stdout.readline())
                threading.Thread(target=_collect, args=(proc.stdout, served.lines), daemon=True).start()
                return served
    proc.kill()
    proc.wait()
    message = served.stderr()[-3000:]
    log.close()
    raise AssertionError(f"serve did not start; stderr: {message}")


def finish(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"{proc.args!r} failed ({proc.returncode}): {err[-3000:]}")
    return dict(json.loads(lines[-1]))


def consumer(port: int, seconds: float, *extra: str) -> subprocess.Popen[str]:
    return module_process("tests.provider.attacks.consumer", "--port", str(port), "--seconds", str(seconds), *extra)


def run_consumer(port: int, seconds: float) -> dict[str, Any]:
    return finish(consumer(port, seconds), seconds + 60)


def _lowest_priority() -> None:
    """Attackers run as SCHED_IDLE (and nice 19 where that policy is refused): on a 2-core machine an
    attacker at full speed would otherwise take the CPU the server and the good consumer need, and we
    would measure the machine, not the server (a real attacker runs on machines of its own). Nice 19
    alone is not enough: a nice-19 task woken by its socket still preempts the server for a few ms
    (slow server callbacks with 0.1-0.3 ms of CPU in 3-4 ms of wall time, one involuntary switch
    each); a SCHED_IDLE task only runs on a core no other task wants."""
    os.nice(19)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def measure(
    served: Served, attack: str, seconds: float, *, ramp: float = 1.0, settle: float = 20.0, settled_mib: float = 0.0
) -> dict[str, Any]:
    """Attack for ``seconds`` with the good consumer running from ``ramp`` seconds in to the end.

    ``after`` is the first RSS sample at most ``settled_mib`` above ``before`` within ``settle``
    seconds of the attack's end (the last sample when it never settles). ``server_cpu``: seconds
    the server ran and seconds it waited for a core while the good consumer called."""
    before = served.rss_mib()
    attacker = module_process(
        "tests.provider.attacks.attackers",
        attack,
        "--port",
        str(served.port),
        "--seconds",
        str(seconds),
        preexec_fn=_lowest_priority,
    )
    time.sleep(ramp)
    good = consumer(served.port, max(seconds - ramp, 1.0))
    ran, waited = served.cpu_seconds()
    started = time.monotonic()
    peak = before
    while good.poll() is None:
        peak = max(peak, served.rss_mib())
        time.sleep(0.2)
    ran_end, waited_end = served.cpu_seconds()
    wall = time.monotonic() - started
    while attacker.poll() is None:
        peak = max(peak, served.rss_mib())
        time.sleep(0.2)
    attack_stats = finish(attacker, 30)
    good_stats = finish(good, 30)
    deadline = time.monotonic() + settle
    after = served.rss_mib()
    while after > before + settled_mib and time.monotonic() < deadline:
        time.sleep(0.5)
        after = served.rss_mib()
    return {
        "attack": attack_stats,
        "consumer": good_stats,
        "rss_mib": {"before": before, "peak": round(peak, 1), "after": after},
        "server_cpu": {"wall": round(wall, 2), "ran": round(ran_end - ran, 2), "waited": round(waited_end - waited, 2)},
    }
