"""``serve --workers N`` under supervision: dead workers are reaped and replaced with backoff, REST stays up.

Real processes: the toy workers of ``tests.provider.supervised`` for the supervisor's
rules, and ``dubbo-recsys serve --workers 2 --rest-port P`` for a worker killed with
SIGKILL while a consumer calls and a probe asks ``/healthz``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request

from tests.provider.attacks import process
from tests.support import free_port


def _zombie_or_gone(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]  # state letter: Z is a zombie
    except FileNotFoundError:
        return "gone"


def _supervised(*behaviours: str) -> tuple[subprocess.Popen[str], list[int]]:
    proc = process.module_process("tests.provider.supervised", *behaviours)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    pids = [int(p) for p in line.split()[1].split(",")] if line.startswith("ready") else []
    return proc, pids


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    """A failed test must not leave workers holding the output pipe (or running)."""
    if proc.poll() is None:
        for pid in process.children(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
    proc.communicate()


def test_a_worker_that_keeps_dying_is_replaced_with_growing_delays_and_never_left_a_zombie():
    proc, pids = _supervised("serve", "crash")
    try:
        assert len(pids) == 2  # the crashing one may be 0 already: being replaced
        time.sleep(2.5)  # delays 0.2, 0.4, 0.8, 1.0 (the cap): about four replacements, not hundreds
        assert pids[1] == 0 or _zombie_or_gone(pids[1]) == "gone"
        children = process.children(proc.pid)
        assert pids[0] in children and all(_zombie_or_gone(pid) != "Z" for pid in children)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
    code, respawns = (int(x) for x in out.split("done", 1)[1].split())
    assert 2 <= respawns <= 6 and err.count("exited (3)") >= respawns
    assert "replacing it in 1s" in err  # the cap was reached
    assert code in (0, 3)  # the last replacement may have crashed during the stop


def test_a_worker_that_dies_before_it_is_ready_fails_the_command():
    proc, pids = _supervised("serve", "early")
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
    assert pids == [] and proc.returncode == 1 and "exited before it was ready" in err  # "done 1 0" was read
    assert _zombie_or_gone(proc.pid) == "gone"


def test_sigkill_of_the_worker_serving_rest_keeps_rest_and_dubbo_serving():
    rest = free_port()
    served = process.serve("--workers", "2", "--rest-port", str(rest))
    try:
        workers = process.children(served.proc.pid)
        assert len(workers) == 2
        consumer = process.consumer(served.port, 4.0)
        time.sleep(1.0)
        os.kill(workers[0], signal.SIGKILL)
        probes = []
        for _ in range(30):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{rest}/healthz", timeout=5) as answer:
                    probes.append(answer.status)
            except OSError:
                probes.append(0)  # a probe that was queued on the killed worker is reset
            time.sleep(0.1)
        report = process.finish(consumer, 60)
        now = process.children(served.proc.pid)
        assert len(now) == 2 and workers[1] in now and workers[0] not in now  # replaced
        assert _zombie_or_gone(workers[0]) == "gone"
        assert probes.count(200) >= 28 and probes[-10:] == [200] * 10
        deadline = time.monotonic() + 60  # the replacement imports the app first: slow on a loaded machine
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{rest}/metrics", timeout=5) as answer:
                text = answer.read().decode()
            if 'dubbo_recsys_worker_up{worker="0"} 1.0' in text:
                break
            time.sleep(0.5)
        assert 'dubbo_recsys_worker_up{worker="0"} 1.0' in text and 'dubbo_recsys_worker_up{worker="1"} 1.0' in text
        # only calls that were on the killed worker's connections can fail; the consumer reconnects
        assert report["all"]["errors"] <= 2 and report["all"]["calls"] > 100
    finally:
        assert served.stop() == 0
