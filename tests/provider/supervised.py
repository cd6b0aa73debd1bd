"""Subprocess entry for the supervisor tests: ``Supervisor`` over toy workers chosen on the command line.

``python -m tests.provider.supervised BEHAVIOUR...``: one worker per argument, each
``serve`` (report ready, then wait for SIGTERM and exit 0), ``crash`` (report ready,
exit 3 at once), ``early`` (exit 4 before reporting ready). Prints ``ready PIDS`` once every
worker is ready and ``done CODE RESPAWNS`` at the end.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from dubbo_recsys.provider.supervisor import Supervisor


def worker(behaviour: str, ready_fd: int) -> int:
    if behaviour == "early":
        return 4
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop.append(signum))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # workers start with it blocked
    os.write(ready_fd, f"{os.getpid()} 0\n".encode())
    if behaviour == "crash":
        return 3
    while not stop:
        time.sleep(0.02)
    return 0


if __name__ == "__main__":
    behaviours = sys.argv[1:]
    supervisor = Supervisor(
        len(behaviours),
        lambda index, ready_fd: worker(behaviours[index], ready_fd),
        on_ready=lambda pids: print("ready", ",".join(map(str, pids)), flush=True),
        first_backoff=0.2,
        max_backoff=1.0,
        stable_after=5.0,
    )
    code = supervisor.run()
    print("done", code, supervisor.respawns, flush=True)
    sys.exit(code)
