"""``dubbo-recsys rollback``: pin the version published before the current pin (or ``--to`` an earlier one).

Examples::

    dubbo-recsys rollback --artifact-root /srv/recsys --registry nacos://nacos:8848
    dubbo-recsys rollback --artifact-root /srv/recsys --to 20260105T031500Z-1a2b3c4d5e6f

The pin's history (``provider.rollout.pin``) says what was published before. A rollback's pin tells
the providers to skip the metric comparison (going back to what served before is the point, even if
the version being left had the better offline metric); every other check of the gate still runs.
"""

from __future__ import annotations

import argparse
import sys

from dubbo_recsys.provider.rollout.publish_command import add_pin_arguments

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--to", metavar="V", default=None, help="an earlier published version (default: the last one)")
    add_pin_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dubbo_recsys.interfaces.artifacts import list_versions
    from dubbo_recsys.provider.rollout.errors import RolloutError
    from dubbo_recsys.provider.rollout.pin import Pin
    from dubbo_recsys.provider.rollout.pins import change_pin
    from dubbo_recsys.registry.errors import RegistryError

    def rollback(current: Pin | None) -> Pin:
        if current is None:
            raise RolloutError("nothing was published: there is no pin to roll back")
        pin = current.rollback(args.to)
        if args.artifact_root is not None and pin.version not in list_versions(args.artifact_root):
            raise RolloutError(f"{pin.version} is no longer under {args.artifact_root / 'versions'}")
        return pin

    try:
        current, pin = asyncio.run(
            change_pin(args.registry, args.artifact_root, args.pin_data_id, args.pin_group, rollback)
        )
    except (RolloutError, RegistryError, OSError) as exc:
        print(f"dubbo-recsys: {exc}", file=sys.stderr)
        return 2
    assert current is not None  # rollback() refused otherwise
    print(f"rolled back to {pin.version} (from {current.version}); the metric gate is skipped for it")
    return 0
