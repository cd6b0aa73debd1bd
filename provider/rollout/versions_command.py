"""``dubbo-recsys versions``: the versions under an artifact root, the pin, and which provider serves what.

Examples::

    dubbo-recsys versions --artifact-root /srv/recsys --registry nacos://nacos:8848
    dubbo-recsys versions --artifact-root /srv/recsys --registry nacos://nacos:8848 --wait 60   # watch it roll

The providers are read from Nacos: each one registered with ``--artifact-root`` carries the
``artifacts.*`` keys of ``provider.rollout.state`` in its instance metadata (the version each worker
serves, what it is loading, its last refusal). ``--wait`` looks again every second until every
provider serves the pinned version (or the newest, without a pin) and exits 0, or 1 when the time
is up; a provider that refused the version is shown with the reason as soon as it does.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from dubbo_recsys.provider.rollout.publish_command import add_pin_arguments

__all__ = ["add_arguments", "run"]

RECOMMEND_SERVICE = "providers:org.dubborecsys.api.RecommendService:1.0.0:"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_pin_arguments(parser)
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="wait until every provider serves the pin"
    )
    parser.add_argument(
        "--service", default=RECOMMEND_SERVICE, help=f"Nacos service the providers register ({RECOMMEND_SERVICE})"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dubbo_recsys.provider.rollout.errors import RolloutError
    from dubbo_recsys.registry.errors import RegistryError

    try:
        return asyncio.run(_report(args))
    except (RolloutError, RegistryError, OSError) as exc:
        print(f"dubbo-recsys: {exc}", file=sys.stderr)
        return 2


async def _report(args: argparse.Namespace) -> int:
    import asyncio

    from dubbo_recsys.interfaces.artifacts import list_versions, read_manifest, version_dir
    from dubbo_recsys.provider.rollout.pins import read_pin

    pin = await read_pin(args.registry, args.artifact_root, args.pin_data_id, args.pin_group)
    versions = list_versions(args.artifact_root) if args.artifact_root is not None else []
    wanted = pin.version if pin is not None else (versions[-1] if versions else "")
    if args.artifact_root is not None:
        print(f"versions under {args.artifact_root}:")
        for version in reversed(versions):
            manifest = read_manifest(version_dir(args.artifact_root, version))
            metrics = " ".join(f"{k}={v}" for k, v in sorted(manifest.get("metrics", {}).items())[:3])
            mark = " <- pinned" if pin is not None and version == pin.version else ""
            print(f"  {version}  engine {manifest.get('build', {}).get('engine', '?')}  {metrics}{mark}")
    if pin is not None:
        print(
            f"pin: {pin.version} (before: {', '.join(pin.history[:3]) or 'none'}){' [rollback]' * pin.skip_metric_gate}"
        )
    else:
        print("pin: none (providers serve the newest valid version)")
    if not str(args.registry).lower().startswith("nacos://"):
        return 0
    deadline = time.monotonic() + max(0.0, args.wait)
    shown: dict[str, str] = {}
    while True:
        providers = await _providers(args)
        for address, metadata in providers:
            line = _describe(metadata)
            if shown.get(address) != line:
                shown[address] = line
                print(f"  {address}  {line}", flush=True)
        done = bool(providers) and all(m.get("artifacts.version") == wanted for _, m in providers)
        if args.wait <= 0:
            return 0
        if done:
            print(f"every provider ({len(providers)}) serves {wanted}")
            return 0
        if time.monotonic() >= deadline:
            print(f"not every provider serves {wanted} after {args.wait:.0f} s", file=sys.stderr)
            return 1
        await asyncio.sleep(1.0)


async def _providers(args: argparse.Namespace) -> list[tuple[str, dict[str, str]]]:
    from dubbo_recsys.provider.rollout.pins import nacos_settings
    from dubbo_recsys.registry.nacos import provider_instances

    found = await provider_instances(nacos_settings(args.registry), args.service)
    return [(f"{ip}:{port}", metadata) for ip, port, metadata in found]


def _describe(metadata: dict[str, Any]) -> str:
    if "artifacts.version" not in metadata:
        return "no artifact root (serves one fixed directory or the popularity list)"
    parts = [f"serving {metadata['artifacts.version']}", f"workers {metadata.get('artifacts.workers', '?')}"]
    if metadata.get("artifacts.loading"):
        parts.append(f"loading {metadata['artifacts.loading']}")
    if metadata.get("artifacts.refused"):
        parts.append(f"refused {metadata['artifacts.refused']} ({metadata.get('artifacts.refusal', '')})")
    return "; ".join(parts)
