"""Keep N forked worker processes running: start them, reap them, replace the ones that die.

``serve --workers N`` forks N workers sharing the dubbo:// (and gRPC, REST) ports through
SO_REUSEPORT. A worker that dies (a crash, the OOM killer, ``kill -9``) would leave the
port served by fewer processes for good and, unreaped, a zombie. ``Supervisor.run``:

- forks each worker with ``target(index, ready_fd)``; a worker writes one line starting
  with its pid to ``ready_fd`` once it accepts connections;
- waits for every worker's first ready line (``on_ready`` runs then: ``serve`` prints
  its ``listening`` lines); a worker that exits before it is ready stops them all (a
  bad flag or a taken port must fail the command, not loop);
- afterwards, reaps every exit (``waitpid``, so no zombies) and forks a replacement with
  the same index after a backoff: 0.5 s, doubled for each exit within ``stable_after``
  (60 s) of the last start, at most ``max_backoff`` (30 s); one that lived longer starts
  over at 0.5 s. A worker that keeps crashing costs a fork every 30 s, not a busy loop;
- on SIGTERM/SIGINT forwards SIGTERM to every worker (each drains; see
  ``provider.transport``), replaces nothing any more, and returns once all have exited:
  0 when every worker exited 0.

The supervisor itself runs no event loop and no threads (it forks); it waits in
``sigtimedwait`` with SIGCHLD, SIGTERM and SIGINT blocked. A forked worker starts with
SIGTERM and SIGINT still blocked and must unblock them once its handlers are installed
(``serve.run_until_signalled`` does), so a SIGTERM sent while it is still starting stops it cleanly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

__all__ = ["Supervisor"]

_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}


@dataclass
class _Slot:
    """One worker index: its current process, and how quickly it has been dying."""

    index: int
    pid: int = 0
    started: float = 0.0
    ready: bool = False
    failures: int = 0  # consecutive exits within stable_after of their start
    respawn_at: float | None = None


class Supervisor:
    def __init__(
        self,
        count: int,
        target: Callable[[int, int], int],
        *,
        on_ready: Callable[[list[int]], None] | None = None,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
        stable_after: float = 60.0,
        start_timeout: float = 300.0,
    ) -> None:
        self.target = target
        self.on_ready = on_ready
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.start_timeout = start_timeout
        self.slots = [_Slot(index) for index in range(count)]
        self.respawns = 0
        self._stopping = False
        self._exit_codes: list[int] = []
        self._ready_fd = -1
        self._partial = b""

    @property
    def pids(self) -> list[int]:
        return [slot.pid for slot in self.slots if slot.pid]

    def run(self) -> int:
        """Start every worker and supervise them until SIGTERM/SIGINT; the exit status for the command."""
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        self._ready_fd = read_fd
        try:
            for slot in self.slots:
                self._spawn(slot, write_fd, previous)
            started = self._wait_ready(time.monotonic() + self.start_timeout)
            if not started:
                self._stop_all()
            elif self.on_ready is not None:
                self.on_ready([slot.pid for slot in self.slots])  # 0 for one being replaced already
            while any(slot.pid or slot.respawn_at is not None for slot in self.slots):
                self._wait_once(write_fd, previous)
        finally:
            os.close(read_fd)
            os.close(write_fd)
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if not started:
            return 1
        return next((code for code in self._exit_codes if code), 0)

    # -- one step ---------------------------------------------------------------------------

    def _wait_ready(self, deadline: float) -> bool:
        while not all(slot.ready for slot in self.slots):
            if self._stopping or time.monotonic() > deadline:
                return False
            info = signal.sigtimedwait(_SIGNALS, 0.05)
            if info is not None and info.si_signo != signal.SIGCHLD:
                self._stopping = True
                return False
            self._read_ready_lines()
            for slot, pid, code in self._reap():
                if not slot.ready:
                    sys.stderr.write(f"dubbo-recsys serve: worker {slot.index} exited before it was ready\n")
                    return False
                self._replace_later(slot, pid, code)
        return True

    def _wait_once(self, write_fd: int, mask: Collection[int]) -> None:
        due = [slot.respawn_at for slot in self.slots if slot.respawn_at is not None]
        timeout = max(0.0, min(due) - time.monotonic()) if due else 1.0
        info = signal.sigtimedwait(_SIGNALS, min(timeout, 1.0))
        if info is not None and info.si_signo in (signal.SIGTERM, signal.SIGINT) and not self._stopping:
            self._stop_all()
        self._read_ready_lines()
        for slot, pid, code in self._reap():
            if self._stopping:
                self._exit_codes.append(code)
                if code:
                    sys.stderr.write(f"dubbo-recsys serve: worker {slot.index} (pid {pid}) stopped with {code}\n")
            else:
                self._replace_later(slot, pid, code)
        now = time.monotonic()
        for slot in self.slots:
            if slot.respawn_at is not None and slot.respawn_at <= now and not self._stopping:
                slot.respawn_at = None
                self.respawns += 1
                self._spawn(slot, write_fd, mask)

    def _replace_later(self, slot: _Slot, pid: int, code: int) -> None:
        lived = time.monotonic() - slot.started
        slot.failures = slot.failures + 1 if lived < self.stable_after else 1
        delay = min(self.max_backoff, self.first_backoff * 2 ** (slot.failures - 1))
        slot.respawn_at = time.monotonic() + delay
        sys.stderr.write(
            f"dubbo-recsys serve: worker {slot.index} (pid {pid}) exited ({code}); replacing it in {delay:g}s\n"
        )
        sys.stderr.flush()

    def _reap(self) -> list[tuple[_Slot, int, int]]:
        """Every worker that has exited, its pid and exit code; never blocks, leaves no zombie."""
        reaped = []
        by_pid = {slot.pid: slot for slot in self.slots if slot.pid}
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            slot = by_pid.get(pid)
            if slot is None:
                continue
            slot.pid = 0
            reaped.append((slot, pid, os.waitstatus_to_exitcode(status)))
        return reaped

    def _read_ready_lines(self) -> None:
        try:
            data = os.read(self._ready_fd, 4096)
        except BlockingIOError:
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        by_pid = {slot.pid: slot for slot in self.slots if slot.pid}
        for line in lines:
            fields = line.split()
            slot = by_pid.get(int(fields[0])) if fields and fields[0].isdigit() else None
            if slot is not None:
                slot.ready = True

    def _stop_all(self) -> None:
        self._stopping = True
        for slot in self.slots:
            slot.respawn_at = None
            if slot.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signal.SIGTERM)

    def _spawn(self, slot: _Slot, write_fd: int, mask: Collection[int]) -> None:
        slot.ready = False
        slot.started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.close(self._ready_fd)
                # SIGTERM/SIGINT stay blocked until the worker has its handlers (and unblocks them):
                # one that arrives while it is still importing is then a clean stop, not a kill
                signal.pthread_sigmask(signal.SIG_SETMASK, set(mask) | {signal.SIGTERM, signal.SIGINT})
                code = self.target(slot.index, write_fd)
            finally:
                os._exit(code)
        slot.pid = pid
