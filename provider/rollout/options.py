"""Command-line flags of ``serve`` for serving an artifact root (cheap to import: no numpy, no TensorFlow).

``add_arguments(parser)`` adds ``--artifact-root`` and the rollout flags; ``config_from_args(args)``
turns them into a ``RolloutConfig`` (``None`` without ``--artifact-root``). The pin source defaults
to the ``--registry`` URL when that is Nacos (the fleet's providers already share it), else to the
local ``ROOT/pin.json``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dubbo_recsys.provider.rollout.config import DEFAULT_METRICS, GateConfig, RolloutConfig
from dubbo_recsys.provider.rollout.errors import RolloutConfigError
from dubbo_recsys.provider.rollout.pin import PIN_DATA_ID, PIN_GROUP

__all__ = ["add_arguments", "config_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("artifact versions (rollout)")
    group.add_argument(
        "--artifact-root",
        type=Path,
        default=Path(os.environ["DUBBO_RECSYS_ARTIFACT_ROOT"])
        if os.environ.get("DUBBO_RECSYS_ARTIFACT_ROOT")
        else None,
        metavar="ROOT",
        help="serve the versions `dubbo-recsys build --artifact-root ROOT` writes: the pinned one, else the newest "
        "valid one; new versions are loaded beside, gated and swapped in while serving "
        "(env DUBBO_RECSYS_ARTIFACT_ROOT; instead of --artifacts)",
    )
    group.add_argument(
        "--pin-source",
        default="",
        metavar="URL",
        help="where `dubbo-recsys publish` pins the version: nacos://HOST:PORT[?namespace=..] or none "
        "(ROOT/pin.json); default: --registry when it is Nacos, else none",
    )
    group.add_argument("--pin-data-id", default=PIN_DATA_ID, help=f"Nacos dataId of the pin (default {PIN_DATA_ID})")
    group.add_argument("--pin-group", default=PIN_GROUP, help=f"Nacos group of the pin (default {PIN_GROUP})")
    group.add_argument(
        "--rollout-poll", type=float, default=2.0, metavar="SECONDS", help="list the root this often (default 2)"
    )
    group.add_argument(
        "--gate-metrics",
        default=",".join(DEFAULT_METRICS),
        metavar="NAME,...",
        help="manifest metrics a new version must not lose against the serving one (default: %(default)s)",
    )
    group.add_argument(
        "--gate-margin",
        type=float,
        default=0.10,
        metavar="FRACTION",
        help="how much worse than the serving version's a gate metric may be (default 0.10 = 10%%)",
    )
    group.add_argument(
        "--gate-smoke-users", type=int, default=16, metavar="N", help="users answered before a version serves (16)"
    )
    group.add_argument(
        "--rollout-memory-limit-mb",
        type=int,
        default=0,
        metavar="MB",
        help="memory this process may use; a version that would pass it is refused (default 0: the machine's "
        "available memory and the cgroup limit only)",
    )


def config_from_args(args: argparse.Namespace) -> RolloutConfig | None:
    """A ``RolloutConfig``, or ``None`` without ``--artifact-root``; raises ``RolloutConfigError``."""
    if args.artifact_root is None:
        return None
    if getattr(args, "artifacts", None) is not None:
        raise RolloutConfigError("give --artifacts DIR (one fixed directory) or --artifact-root ROOT, not both")
    source = args.pin_source
    if not source:
        registry = str(getattr(args, "registry", "none") or "none")
        source = registry if registry.lower().startswith("nacos://") else "none"
    metrics = tuple(name.strip() for name in args.gate_metrics.split(",") if name.strip())
    return RolloutConfig(
        root=args.artifact_root,
        pin_source=source,
        pin_data_id=args.pin_data_id,
        pin_group=args.pin_group,
        poll_seconds=args.rollout_poll,
        gate=GateConfig(metrics=metrics, margin=args.gate_margin, smoke_users=args.gate_smoke_users),
        memory_limit=max(0, args.rollout_memory_limit_mb) * 1024 * 1024,
    )
