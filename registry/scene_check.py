"""``dubbo-recsys scene-check FILE...``: validate scene config documents before publishing them.

Runs the same validation the config center applies to every Nacos update, so an operator can check
a document (the seed's layout or ours) before pasting it into the console. Prints one line per file,
``ok`` with a summary or ``invalid`` with the path of the first bad value; exits 1 if any is invalid.
``-`` reads standard input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scene documents (JSON); '-' for stdin")
    parser.add_argument(
        "--group", default="DEFAULT_GROUP", help="group for documents that name none (default DEFAULT_GROUP)"
    )


def run(args: argparse.Namespace) -> int:
    from dubbo_recsys.registry.errors import SceneConfigError
    from dubbo_recsys.registry.scene_config import parse_scene_config

    failures = 0
    for name in args.files:
        try:
            if name == "-":
                text, data_id = sys.stdin.read(), ""
            else:
                text, data_id = Path(name).read_text(encoding="utf-8"), Path(name).stem
            scene = parse_scene_config(text, data_id=data_id, group=args.group)
        except (OSError, UnicodeDecodeError) as exc:
            failures += 1
            print(f"unreadable {name}: {exc}")
            continue
        except SceneConfigError as exc:
            failures += 1
            print(f"invalid {name}: {exc}")
            continue
        pipeline = scene.pipeline
        steps = f"{len(pipeline.steps)} steps, light {len(pipeline.light_steps)}" if pipeline else "none"
        indexes = len(scene.index.indexes) if scene.index else 0
        print(
            f"ok {name}: dataId={scene.data_id} group={scene.group} version={scene.version or '-'} "
            f"models={len(scene.models)} indexes={indexes} redis={'yes' if scene.redis else 'no'} "
            f"pipeline={steps}"
        )
    return 1 if failures else 0
