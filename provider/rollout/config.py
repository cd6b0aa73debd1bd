"""The rollout's slice of configuration, validated once (``serve --artifact-root`` and its flags).

``RolloutConfig`` says which artifact root a worker serves, where the pin comes from (a Nacos URL,
or ``none`` for ``ROOT/pin.json``), how often it looks, what the gate demands (``GateConfig``) and
how much memory the process may use. ``state_dir`` and ``worker`` are set by ``serve`` for
``--workers N`` (where each worker leaves its rollout state for the first one to report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dubbo_recsys.provider.rollout.errors import RolloutConfigError
from dubbo_recsys.provider.rollout.pin import PIN_DATA_ID, PIN_GROUP

__all__ = ["DEFAULT_METRICS", "GateConfig", "RolloutConfig"]

DEFAULT_METRICS = ("rank_fusion_validation_fused_ndcg@10", "two_tower_u2i_hr@50")

_KEY = re.compile(r"[A-Za-z0-9_\-:][A-Za-z0-9_.\-:]{0,255}\Z")


@dataclass(frozen=True, slots=True)
class GateConfig:
    """``metrics``: manifest metrics compared with the serving version's (those both have);
    ``margin``: how much worse, as a fraction of the serving value, still passes;
    ``smoke_users``: users answered by the full pipeline before a version serves."""

    metrics: tuple[str, ...] = DEFAULT_METRICS
    margin: float = 0.10
    smoke_users: int = 16


@dataclass(frozen=True, slots=True)
class RolloutConfig:
    root: Path
    pin_source: str = "none"  # nacos://HOST:PORT?namespace=.. or none (ROOT/pin.json)
    pin_data_id: str = PIN_DATA_ID
    pin_group: str = PIN_GROUP
    poll_seconds: float = 2.0  # how often the root is listed (a Nacos pin change wakes it at once)
    gate: GateConfig = field(default_factory=GateConfig)
    memory_limit: int = 0  # bytes this process may use (0 = the machine's and the cgroup's limits only)
    state_dir: str | None = None  # serve --workers N: where workers leave their rollout state
    worker: str = "0"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        if not self.root.is_dir():
            raise RolloutConfigError(f"--artifact-root {self.root} is not a directory (build into it first)")
        if not (0.05 <= self.poll_seconds <= 3600):
            raise RolloutConfigError(f"--rollout-poll must be between 0.05 and 3600 s, got {self.poll_seconds}")
        for label, value in (("--pin-data-id", self.pin_data_id), ("--pin-group", self.pin_group)):
            if not _KEY.match(value):
                raise RolloutConfigError(f"{label} {value!r}: 1-256 letters, digits, '_', '-', '.', ':'")
        gate = self.gate
        if not 0.0 <= gate.margin <= 1.0:
            raise RolloutConfigError(f"--gate-margin must be a fraction in 0..1, got {gate.margin}")
        if not 1 <= gate.smoke_users <= 1000:
            raise RolloutConfigError(f"--gate-smoke-users must be in 1..1000, got {gate.smoke_users}")
        if self.memory_limit < 0:
            raise RolloutConfigError("--rollout-memory-limit-mb must be >= 0")
        source = self.pin_source.strip().lower()
        if source not in ("none", "") and not source.startswith("nacos://"):
            raise RolloutConfigError(f"--pin-source must be nacos://HOST:PORT[?...] or none, got {self.pin_source!r}")
