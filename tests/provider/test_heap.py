"""provider.heap: the C heap's thresholds, and giving back the free top of a worker thread's arena."""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(
    not ctypes.util.find_library("c") or os.uname().sysname != "Linux", reason="glibc's malloc is what is tuned"
)

# In a fresh interpreter: in a process that already freed memory the block would reuse it.
SCRIPT = """
import json, os, threading
from dubbo_recsys.provider import heap

assert heap.configure()
statm = os.open("/proc/self/statm", os.O_RDONLY)
page = os.sysconf("SC_PAGE_SIZE")
seen = {}

def rss_mib():  # reads without a C-heap allocation, so nothing lands above the block
    return int(os.pread(statm, 128, 0).split()[1]) * page / (1 << 20)

def worker():
    seen["before"] = rss_mib()
    block = b"x" * (8 << 20)  # every page written; below the trim threshold
    seen["holding"] = rss_mib()
    del block
    seen["freed"] = rss_mib()
    heap.trim()
    seen["malloc_trim"] = rss_mib()
    seen["arena"] = heap.trim_thread_arena()
    seen["arena_trim"] = rss_mib()

thread = threading.Thread(target=worker)
thread.start()
thread.join()
print(json.dumps(seen))
"""


@glibc
def test_a_worker_threads_arena_gives_back_the_large_block_left_at_its_top():
    """With the thresholds set, an 8 MiB block freed in a worker thread stays in its arena, warm for
    the next large body; malloc_trim does not give back an arena's top, trim_thread_arena does."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout)
    assert seen["arena"] is True
    assert seen["holding"] > seen["before"] + 7, seen
    assert seen["freed"] > seen["holding"] - 1, seen  # kept warm
    assert seen["malloc_trim"] > seen["holding"] - 1, seen  # malloc_trim leaves a thread arena's top
    assert seen["arena_trim"] < seen["freed"] - 6, seen  # trim_thread_arena gives it back
