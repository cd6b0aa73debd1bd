"""Build a versioned artifact directory (see offline/ARTIFACTS.md) from ML-100K or a synthetic catalog.

Examples:
  dubbo-recsys build --source ml-100k --out artifacts/ml100k
  dubbo-recsys build --source ml-100k --artifact-root /srv/recsys   # a new version in /srv/recsys/versions/
  dubbo-recsys build --source synthetic --users 100000 --items 1000000 --seed 7 --out artifacts/synth
  dubbo-recsys build --source files --interactions 'logs/dt=*/*.parquet' --users-table users.parquet \
      --items-table items.parquet --engine spark --master yarn --out artifacts/daily

Progress bars appear on a terminal only; the log gets one line per step with its time.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--source", required=True, choices=["ml-100k", "synthetic", "files"])
    where = parser.add_mutually_exclusive_group()  # one of them; checked in run (a config file may give it)
    where.add_argument("--out", help="artifact directory to create or replace")
    where.add_argument(
        "--artifact-root",
        metavar="ROOT",
        help="add the build as a new immutable version under ROOT/versions/ (what serve --artifact-root rolls to)",
    )
    parser.add_argument("--name", default="", help="artifact name in the manifest (default: the --out folder name)")
    parser.add_argument("--data-dir", default=None, help="ML-100K atomic files elsewhere than the recbole wheel")
    parser.add_argument(
        "--skip-existing", action="store_true", help="do nothing if --out holds a build of the same version"
    )
    parser.add_argument(
        "--work-dir", default=None, help="keep the scratch files (training examples, Spark output) here"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (there are none off a terminal)")
    engine = parser.add_argument_group("engine")
    engine.add_argument(
        "--engine", choices=["embedded", "spark"], default="embedded", help="who runs the steps that read the log"
    )
    engine.add_argument("--master", default="local[2]", help="Spark master: local[N], spark://..., yarn, k8s://...")
    engine.add_argument("--driver-memory", default="2g", help="Spark driver heap (when this process starts the JVM)")
    engine.add_argument("--shuffle-partitions", type=int, default=8, help="spark.sql.shuffle.partitions")
    engine.add_argument(
        "--spark-conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting (repeatable)"
    )
    files = parser.add_argument_group("--source files (offline/logfiles.py)")
    files.add_argument("--interactions", default=None, help="the log: a directory or a glob of Parquet / CSV files")
    files.add_argument("--users-table", default=None, help="users table (Parquet / CSV), optional")
    files.add_argument("--items-table", default=None, help="items table (Parquet / CSV), optional")
    synth = parser.add_argument_group("synthetic catalog")
    synth.add_argument("--users", type=int, default=2_000)
    synth.add_argument("--items", type=int, default=5_000)
    synth.add_argument("--seed", type=int, default=7, help="generator and sampling seed")
    synth.add_argument("--mean-interactions", type=float, default=30.0)
    synth.add_argument("--zipf", type=float, default=1.0, help="popularity exponent")
    tables = parser.add_argument_group("neighbour tables")
    tables.add_argument("--k", type=int, default=100, help="neighbours per row")
    tables.add_argument("--hot-k", type=int, default=200)
    tables.add_argument("--last-n", type=int, default=50)
    tables.add_argument("--max-user-items", type=int, default=200)
    tables.add_argument("--max-item-users", type=int, default=500)
    model = parser.add_argument_group("two-tower model")
    model.add_argument("--no-two-tower", action="store_true", help="skip the model, embeddings and Faiss index")
    model.add_argument(
        "--no-models",
        action="store_true",
        help="every step that reads the log, training examples included, but no training (scale runs)",
    )
    model.add_argument("--no-fusion", action="store_true", help="skip the fusion weights' validation build")
    model.add_argument("--dim", type=int, default=None)
    model.add_argument("--epochs", type=int, default=None)
    model.add_argument("--batch-size", type=int, default=None)
    rank = parser.add_argument_group("ranking model")
    rank.add_argument("--rank-epochs", type=int, default=None)
    rank.add_argument("--rank-negatives", type=int, default=None)
    rank.add_argument("--rank-eval-users", type=int, default=None, help="test users in the build's quick rank check")


def _config(args: argparse.Namespace):
    import dataclasses

    from dubbo_recsys.offline.config import (
        BuildConfig,
        FilesSource,
        NeighborConfig,
        SparkConfig,
        SyntheticConfig,
        TwoTowerConfig,
    )
    from dubbo_recsys.offline.errors import BuildConfigError

    tower_overrides = {
        name: value
        for name, value in (("dim", args.dim), ("epochs", args.epochs), ("batch_size", args.batch_size))
        if value is not None
    }
    two_tower = dataclasses.replace(TwoTowerConfig(), enabled=not args.no_two_tower, **tower_overrides)
    conf = []
    for pair in args.spark_conf:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BuildConfigError(f"--spark-conf takes KEY=VALUE, got {pair!r}")
        conf.append((key.strip(), value.strip()))
    files = None
    if args.source == "files" or args.interactions:
        files = FilesSource(args.interactions or "", args.users_table, args.items_table)
    return BuildConfig(
        source=args.source,
        out=args.artifact_root or args.out,
        name=args.name or ("" if args.out else "artifacts"),
        engine=args.engine,
        spark=SparkConfig(
            master=args.master,
            driver_memory=args.driver_memory,
            shuffle_partitions=args.shuffle_partitions,
            conf=tuple(conf),
        ),
        files=files,
        data_dir=args.data_dir,
        work_dir=args.work_dir,
        seed=args.seed,
        synthetic=SyntheticConfig(
            users=args.users,
            items=args.items,
            seed=args.seed,
            mean_interactions=args.mean_interactions,
            zipf_exponent=args.zipf,
        ),
        neighbors=NeighborConfig(
            k=args.k,
            hot_k=args.hot_k,
            last_n=args.last_n,
            max_user_items=args.max_user_items,
            max_item_users=args.max_item_users,
        ),
        two_tower=two_tower,
    )


def _rank_config(args: argparse.Namespace):
    import dataclasses

    from dubbo_recsys.offline.rank_steps import RankModelConfig

    overrides = {
        name: value
        for name, value in (
            ("epochs", args.rank_epochs),
            ("negatives", args.rank_negatives),
            ("eval_users", args.rank_eval_users),
        )
        if value is not None
    }
    return dataclasses.replace(RankModelConfig(), **overrides)


def _steps(recipe, args: argparse.Namespace) -> list:
    from dubbo_recsys.offline.model_steps import FaissIndex, TwoTowerModel
    from dubbo_recsys.offline.rank_fusion import RankFusion
    from dubbo_recsys.offline.rank_steps import RankModel
    from dubbo_recsys.offline.steps import TrainingExamples

    steps = [s for s in recipe if not (args.no_fusion and isinstance(s, RankFusion))]
    if args.no_models:
        models = (TwoTowerModel, FaissIndex, RankModel, RankFusion)
        steps = [s for s in steps if not isinstance(s, models)]
        steps = [TrainingExamples(s.history_len, always=True) if isinstance(s, TrainingExamples) else s for s in steps]
    return steps


@contextlib.contextmanager
def _steps_logged() -> Iterator[None]:
    """One line per step on stderr when this module runs on its own (``dubbo-recsys build`` gets the CLI's
    ``steps_logged_to_stderr``, the same lines for every long command; ``run_build`` callers configure their own).
    Not propagated meanwhile (TensorFlow configures the root logger: one line, not two); put back afterwards."""
    import logging

    logger = logging.getLogger("dubbo_recsys.offline")

    class Stderr(logging.StreamHandler):
        """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

        @property
        def stream(self):
            return sys.stderr

        @stream.setter
        def stream(self, _value) -> None:
            pass

    saved = (logger.level, logger.propagate)
    handler = Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def run(args: argparse.Namespace) -> int:
    from dubbo_recsys.offline.build import run_build
    from dubbo_recsys.offline.errors import OfflineError
    from dubbo_recsys.offline.recipe import default_steps

    if not args.out and not args.artifact_root:
        print("dubbo-recsys build: give --out DIR or --artifact-root ROOT", file=sys.stderr)
        return 2
    try:
        config = _config(args)
        result = run_build(
            config,
            steps=_steps(default_steps(_rank_config(args)), args),
            skip_existing=args.skip_existing,
            show_progress=not args.no_progress,
            into_root=bool(args.artifact_root),
        )
    except OfflineError as exc:
        print(f"dubbo-recsys build: {exc}", file=sys.stderr)
        return 2
    manifest = result.manifest
    verb = "up to date" if result.skipped else "built"
    counts = manifest["counts"]
    print(
        f"{verb}: {result.root} version {manifest['version']} "
        f"({counts['users']} users, {counts['items']} items, {counts['train']} train, {counts['test']} test)"
    )
    for step, seconds in manifest.get("steps", {}).items():
        if not result.skipped:
            print(f"  {step:<20} {seconds:8.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m dubbo_recsys.offline.build_command``: the same command without the CLI's other sub-commands."""
    parser = argparse.ArgumentParser(prog="dubbo-recsys build", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    with _steps_logged():
        return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
