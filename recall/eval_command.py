"""Measure recall quality on a built artifact directory: HR@k per channel and merged.

Prints HR@50 (= recall@50 with one held-out item) for popularity, each recall
channel and the merged recall, on the artifact's leave-last-out test split,
each list ranked against all items minus the user's training items.
``--tune`` fits fusion weights and quotas on a seeded half of the users and
reports the other half (see ``recall.evaluation``). Exit status 0 on success,
2 when the artifact directory cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dubbo_recsys.recall.evaluation import EvalReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifacts", required=True, help="artifact directory written by `dubbo-recsys build`")
    parser.add_argument("--k", type=int, default=50, help="list length for HR@k (default 50)")
    parser.add_argument("--tune", action="store_true", help="tune fusion on half the users, report the other half")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tuning/report user split")
    parser.add_argument("--cold", action="store_true", help="also score test users posing as new users (profile only)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")


def _print_table(report: EvalReport) -> None:
    print(f"recall quality, HR@{report.k} = recall@{report.k} with one held-out item per user")
    print(f"split: {report.split_rule}")
    print(
        f"{report.users} test users, {report.items} items; each list ranked against all items "
        f"minus the user's training items"
    )
    print(f"{'list':<12} {'HR@' + str(report.k):>7}  users served")
    print(f"{'popularity':<12} {report.popularity:7.3f}  {report.users}")
    for kind, hr in report.channels.items():
        served = report.served[kind]
        shown = f"{hr:7.3f}" if served else f"{'-':>7}"
        print(f"{kind.value:<12} {shown}  {served}{'' if served else '   (not enabled for any test user)'}")
    print(f"{'merged':<12} {report.merged:7.3f}  {report.users}   (configured weights and quotas)")
    if report.tuned is not None:
        t = report.tuned
        print(f"tuned on {t.tune_users} users, reported on the other {t.report_users} (seeded split):")
        print(
            f"  merged, tuned, report half   {t.hr_report:.3f}   (untuned on the same half: {t.default_hr_report:.3f})"
        )
        print(f"  merged, tuned, tuning half   {t.hr_tune:.3f}   (optimistic: tuned on these users)")
        print(f"  merged, tuned, all users     {t.hr_all:.3f}   (optimistic: includes the tuning half)")
        policies = ", ".join(f"{k.value}: w={p.weight:g} q={p.quota}" for k, p in t.policies.items())
        print(f"  tuned policies: {policies}; fusion offset {t.offset:g}; lastN decay {t.decay:g}")
    if report.cold is not None:
        c = report.cold
        lookalike = "-" if c.lookalike is None else f"{c.lookalike:.3f}"
        print(
            f"cold start (test users as new users: profile only; look-alike leaves the user out): "
            f"hot {c.hot:.3f}, look-alike {lookalike}, merged {c.merged:.3f}, popularity {report.popularity:.3f}"
        )
    for note in report.notes:
        print(f"note: {note}")
    print(f"({report.seconds:.1f} s)")


def _as_json(report: EvalReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "k": report.k,
        "users": report.users,
        "items": report.items,
        "split": report.split_rule,
        "popularity": report.popularity,
        "merged": report.merged,
        "channels": {k.value: v for k, v in report.channels.items()},
        "served": {k.value: v for k, v in report.served.items()},
        "seconds": report.seconds,
        "notes": list(report.notes),
    }
    if report.cold is not None:
        out["cold"] = {"hot": report.cold.hot, "lookalike": report.cold.lookalike, "merged": report.cold.merged}
    if report.tuned is not None:
        t = report.tuned
        out["tuned"] = {
            "tune_users": t.tune_users,
            "report_users": t.report_users,
            "hr_report": t.hr_report,
            "hr_tune": t.hr_tune,
            "hr_all": t.hr_all,
            "default_hr_report": t.default_hr_report,
            "offset": t.offset,
            "decay": t.decay,
            "policies": {k.value: {"weight": p.weight, "quota": p.quota} for k, p in t.policies.items()},
        }
    return out


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    log = logging.getLogger(__name__)

    from dubbo_recsys.features.base import FeatureStoreError
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.recall.base import RecallError
    from dubbo_recsys.recall.evaluation import evaluate
    from dubbo_recsys.recall.facade import Recall

    if not 1 <= args.k <= 10_000:
        print(f"eval: --k must be in 1..10000, got {args.k}", file=sys.stderr)
        return 2

    async def main() -> EvalReport:
        log.info("eval: loading %s (features, recall channels, indexes)", args.artifacts)
        store = EmbeddedFeatureStore.from_artifacts(args.artifacts)
        recall = Recall.load(args.artifacts, store)
        try:
            return await evaluate(
                recall, args.artifacts, k=args.k, tune_weights=args.tune, seed=args.seed, cold=args.cold
            )
        finally:
            await store.close()

    try:
        report = asyncio.run(main())
    except (RecallError, FeatureStoreError) as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        _print_table(report)
    return 0
