"""Can this process hold a second version beside the one it serves? Asked before anything is loaded.

A swap keeps the serving version until its last call ends, so for a while the process holds two.
The check compares what the new version will take with what is left:

- what it takes: the larger of what the serving version's own load added to this process's RSS
  (measured at its load) and ``FILE_FACTOR`` times the new version's bytes on disk (arrays,
  indexes and models are read whole; parsed ids and JSON take more than their text);
- what is left: the least of the machine's ``MemAvailable`` (``/proc/meminfo``), the cgroup's
  limit minus its usage (v2 ``memory.max``/``memory.current``, or v1 ``memory.limit_in_bytes``/
  ``memory.usage_in_bytes``: a container's real ceiling), and an operator's own budget for this
  process (``serve --rollout-memory-limit-mb``) minus its RSS.

If the new version does not fit with ``RESERVE`` to spare, the version is refused with both numbers
in the reason, before a byte of it is read. ``readings`` is the I/O; ``refusal`` decides, pure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FILE_FACTOR", "RESERVE", "MemoryReadings", "process_rss", "readings", "refusal", "version_bytes"]

FILE_FACTOR = 3.0
RESERVE = 64 * 1024 * 1024  # left free for the requests and the allocator's slack
_MiB = 1024 * 1024
_UNLIMITED = 1 << 60


@dataclass(frozen=True, slots=True)
class MemoryReadings:
    rss: int  # this process now
    machine_available: int  # MemAvailable
    cgroup_left: int  # limit - usage (huge when unlimited or unknown)


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return _UNLIMITED


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return _UNLIMITED
    try:
        return int(text)
    except ValueError:
        return None


def _cgroup_left(base: Path = Path("/sys/fs/cgroup")) -> int:
    for limit_name, usage_name in (("memory.max", "memory.current"), ("memory/memory.limit_in_bytes", None)):
        limit = _read_int(base / limit_name)
        if limit is None:
            continue
        usage = _read_int(base / (usage_name or "memory/memory.usage_in_bytes")) or 0
        return max(0, limit - usage) if limit < _UNLIMITED // 2 else _UNLIMITED
    return _UNLIMITED


def process_rss() -> int:
    """This process's resident set in bytes (``/proc/self/statm``)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def readings() -> MemoryReadings:
    return MemoryReadings(process_rss(), _meminfo_available(), _cgroup_left())


def version_bytes(root: Path) -> int:
    """Bytes on disk of one version directory."""
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            try:
                total += (Path(directory) / name).stat().st_size
            except OSError:
                continue
    return total


def refusal(need: int, found: MemoryReadings, limit: int = 0) -> str:
    """Why a version needing ``need`` bytes must not be loaded now ("" when it fits); ``limit`` 0 = no budget."""
    left = [("the machine's MemAvailable", found.machine_available), ("the cgroup's limit", found.cgroup_left)]
    if limit:
        left.append((f"--rollout-memory-limit-mb {limit // _MiB}", max(0, limit - found.rss)))
    name, free = min(left, key=lambda pair: pair[1])
    if need + RESERVE <= free:
        return ""
    return (
        f"cannot hold two versions: the new one needs about {need / _MiB:.0f} MiB (+{RESERVE // _MiB} MiB reserve) "
        f"and {name} leaves {free / _MiB:.0f} MiB (process RSS {found.rss / _MiB:.0f} MiB)"
    )
