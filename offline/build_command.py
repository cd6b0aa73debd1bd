"""Build a versioned artifact directory (see offline/ARTIFACTS.md) from ML-100K or a synthetic catalog.

Examples:
  dubbo-recsys build --source ml-100k --out artifacts/ml100k
  dubbo-recsys build --source ml-100k --artifact-root /srv/recsys   # a new version in /srv/recsys/versions/
  dubbo-recsys build --source synthetic --users 100000 --items 1000000 --seed 7 --out artifacts/synth
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--source", required=True, choices=["ml-100k", "synthetic"])
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
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
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
    model.add_argument("--dim", type=int, default=None)
    model.add_argument("--epochs", type=int, default=None)
    model.add_argument("--batch-size", type=int, default=None)


def _config(args: argparse.Namespace):
    import dataclasses

    from dubbo_recsys.offline.config import BuildConfig, NeighborConfig, SyntheticConfig, TwoTowerConfig

    tower_overrides = {
        name: value
        for name, value in (("dim", args.dim), ("epochs", args.epochs), ("batch_size", args.batch_size))
        if value is not None
    }
    two_tower = dataclasses.replace(TwoTowerConfig(), enabled=not args.no_two_tower, **tower_overrides)
    return BuildConfig(
        source=args.source,
        out=args.artifact_root or args.out,
        name=args.name or ("" if args.out else "artifacts"),
        data_dir=args.data_dir,
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


def run(args: argparse.Namespace) -> int:
    from dubbo_recsys.offline.build import run_build
    from dubbo_recsys.offline.errors import OfflineError

    if not args.out and not args.artifact_root:
        print("dubbo-recsys build: give --out DIR or --artifact-root ROOT", file=sys.stderr)
        return 2
    try:
        config = _config(args)
        result = run_build(
            config,
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
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
