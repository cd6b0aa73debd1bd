"""``dubbo-recsys publish --version V``: pin the version every provider serving the artifact root follows.

Examples::

    dubbo-recsys publish --artifact-root /srv/recsys --registry nacos://nacos:8848 \\
        --version 20260106T031200Z-9f8e7d6c5b4a
    dubbo-recsys publish --artifact-root /srv/recsys --latest           # the newest version, pin in ROOT/pin.json

The version must be a whole version under ``--artifact-root`` whose files match its manifest (checked
here, so a typo or a half-copied directory is caught before any provider tries it); the providers'
gate then checks the rest. The pin goes to Nacos (the config every provider watches) when
``--registry`` is a Nacos URL, else to ``ROOT/pin.json``. ``rollback`` (``provider.rollout.rollback_command``)
rewrites it to the version published before.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dubbo_recsys.provider.rollout.pin import PIN_DATA_ID, PIN_GROUP

__all__ = ["add_arguments", "add_pin_arguments", "run"]


def add_pin_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags saying where the pin lives (shared by publish, rollback and versions)."""
    parser.add_argument(
        "--artifact-root",
        type=Path,
        default=Path(os.environ["DUBBO_RECSYS_ARTIFACT_ROOT"])
        if os.environ.get("DUBBO_RECSYS_ARTIFACT_ROOT")
        else None,
        metavar="ROOT",
        help="the artifact root the providers serve (env DUBBO_RECSYS_ARTIFACT_ROOT)",
    )
    parser.add_argument(
        "--registry",
        default="none",
        metavar="URL",
        help="nacos://HOST:PORT[?namespace=..] holding the pin the providers watch; none = ROOT/pin.json",
    )
    parser.add_argument("--pin-data-id", default=PIN_DATA_ID, help=f"Nacos dataId of the pin ({PIN_DATA_ID})")
    parser.add_argument("--pin-group", default=PIN_GROUP, help=f"Nacos group of the pin ({PIN_GROUP})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", metavar="V", help="the version id to serve (a directory under ROOT/versions)")
    which.add_argument("--latest", action="store_true", help="the newest version under ROOT/versions")
    parser.add_argument(
        "--no-metric-gate",
        action="store_true",
        help="let providers take it even if its offline metric is worse than the serving version's",
    )
    parser.add_argument("--note", default="", help="a word for the record (kept in the pin)")
    add_pin_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dubbo_recsys.interfaces.artifacts import ArtifactFormatError, list_versions, verify_artifacts, version_dir
    from dubbo_recsys.provider.rollout.errors import RolloutError
    from dubbo_recsys.provider.rollout.pin import Pin
    from dubbo_recsys.provider.rollout.pins import change_pin
    from dubbo_recsys.registry.errors import RegistryError

    if args.artifact_root is None:
        return _fail("give --artifact-root ROOT (where the versions are)")
    if not args.version and not args.latest:
        return _fail("give --version V or --latest")
    versions = list_versions(args.artifact_root)
    version = versions[-1] if args.latest and versions else args.version
    if not version or version not in versions:
        return _fail(f"{version or 'no version'} is not a version under {args.artifact_root / 'versions'}")
    try:
        verify_artifacts(version_dir(args.artifact_root, version))

        def publish(current: Pin | None) -> Pin:
            return (current or Pin("")).publish(version, skip_metric_gate=args.no_metric_gate, note=args.note)

        current, _pin = asyncio.run(
            change_pin(args.registry, args.artifact_root, args.pin_data_id, args.pin_group, publish)
        )
    except (ArtifactFormatError, RolloutError, RegistryError, OSError) as exc:
        return _fail(str(exc))
    before = current.version if current is not None else "the newest version"
    print(f"published {version} (was {before}); providers watching {_where(args)} follow it")
    return 0


def _where(args: argparse.Namespace) -> str:
    if str(args.registry).lower().startswith("nacos://"):
        from dubbo_recsys.registry.url import redact_registry_url

        return f"{redact_registry_url(args.registry)} {args.pin_group}/{args.pin_data_id}"
    return str(args.artifact_root / "pin.json")


def _fail(message: str) -> int:
    print(f"dubbo-recsys: {message}", file=sys.stderr)
    return 2
