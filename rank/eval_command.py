"""Measure ranking quality on a built artifact directory: NDCG@10 and HR@10 of the funnel.

Prints, for the artifact's leave-last-out test users (each list ranked against
all items minus the user's training items): popularity, recall only, the funnel
(the served default scene: recall -> two-tower pre-rank -> DIN with the learned
fusion -> MMR, first 10), its variants (no MMR, DIN alone, the old recall prior),
the light funnels (LR, FM) and DIN over all items, then how the funnel's
parameters were chosen and funnel minus recall paired over users. See
``rank.evaluation`` for the protocol. Exit status 0 on success, 2 when the
artifact directory cannot be read or a parameter is out of range.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifacts", required=True, help="artifact directory written by `dubbo-recsys build`")
    parser.add_argument(
        "--recall-k", type=int, default=None, help="recall depth (default: the served default scene's, 1000)"
    )
    parser.add_argument(
        "--keep", type=int, default=None, help="candidates kept by pre-rank (default: the served default scene's, 200)"
    )
    parser.add_argument(
        "--mmr-lambda",
        type=float,
        default=None,
        help="MMR trade-off, 1 = no diversity (default: the served default scene's, 0.8)",
    )
    parser.add_argument("--prior-weight", type=float, default=8.0, help="recall prior of the funnel_prior row")
    parser.add_argument("--users", type=int, default=None, help="only the first N test users")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dubbo_recsys.features.base import FeatureStoreError
    from dubbo_recsys.rank.base import RankError
    from dubbo_recsys.recall.base import RecallError

    if not (
        (args.recall_k is None or 1 <= args.recall_k <= 10_000)
        and (args.keep is None or 1 <= args.keep <= 10_000)
        and (args.mmr_lambda is None or 0.0 <= args.mmr_lambda <= 1.0)
        and 0.0 <= args.prior_weight <= 100.0
        and (args.users is None or args.users >= 1)
    ):
        print(
            "eval-rank: --recall-k and --keep must be in 1..10000, --mmr-lambda in [0, 1], "
            "--prior-weight in [0, 100], --users >= 1",
            file=sys.stderr,
        )
        return 2
    from dubbo_recsys.rank.evaluation import evaluate_rank

    try:
        report = asyncio.run(
            evaluate_rank(
                args.artifacts,
                recall_k=args.recall_k,
                keep=args.keep,
                mmr_lambda=args.mmr_lambda,
                prior_weight=args.prior_weight,
                max_users=args.users,
            )
        )
    except (RankError, RecallError, FeatureStoreError) as exc:
        print(f"eval-rank: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "users": report.users,
                    "items": report.items,
                    "split": report.split_rule,
                    "ndcg@10": report.ndcg,
                    "hr@10": report.hr,
                    "params": report.params,
                    "paired": report.paired,
                    "seconds": report.seconds,
                    "notes": list(report.notes),
                },
                indent=2,
            )
        )
        return 0
    print("ranking quality, NDCG@10 and HR@10, one held-out item per user")
    print(f"split: {report.split_rule}")
    print(
        f"{report.users} test users, {report.items} items; each list ranked against all items minus the "
        f"user's training items"
    )
    for name, value in report.params.items():
        print(f"  {name}: {value}")
    print(f"{'list':<15} {'NDCG@10':>8} {'HR@10':>7}")
    for name in report.ndcg:
        print(f"{name:<15} {report.ndcg[name]:8.4f} {report.hr[name]:7.4f}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"({report.seconds:.1f} s)")
    return 0
