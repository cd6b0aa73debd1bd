"""Business rules: block lists, boosts, per-category caps and author spacing, in that order.

The seed's ``re_rank`` with rules (``rules``). Parameters (all optional)::

    block_items       [item ids]          never shown
    block_categories  [categories]        never shown (primary category)
    boost_items       {item id: x}        x added to the score
    boost_categories  {category: x}       x added to the score
    category_cap      int                 at most this many items per category in the first ``size``
    author_spacing    int                 at least this many other items between two of one author
    size              int                 positions the caps and spacing apply to (default: the count asked for)

Boosts are added to the score, then the list is re-sorted (ties keep their
order). Caps and spacing fill the head greedily: each position takes the best
remaining item that breaks no rule; when none fits, the best remaining one is
taken anyway (an honest short list beats an empty slot). Categories and authors
come from ``Candidate.item`` when an earlier stage hydrated it, else from the
build's ``features/items.jsonl``. The boost is recorded under ``rules`` in
``Candidate.scores``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import RankArtifacts, RankConfigError, param

__all__ = ["BusinessRules", "RuleSet"]


def _strings(params: Mapping[str, Any], name: str) -> frozenset[str]:
    value = params.get(name, ())
    if isinstance(value, (str, bytes)) or not all(isinstance(v, str) for v in value):
        raise RankConfigError(f"parameter {name!r} must be a list of strings, got {value!r}")
    return frozenset(value)


def _boosts(params: Mapping[str, Any], name: str) -> dict[str, float]:
    value = params.get(name, {})
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()
    ):
        raise RankConfigError(f"parameter {name!r} must map strings to numbers, got {value!r}")
    return {k: float(v) for k, v in value.items()}


@dataclass(frozen=True)
class RuleSet:
    block_items: frozenset[str] = frozenset()
    block_categories: frozenset[str] = frozenset()
    boost_items: Mapping[str, float] = field(default_factory=dict)
    boost_categories: Mapping[str, float] = field(default_factory=dict)
    category_cap: int = 0  # 0 = no cap
    author_spacing: int = 0  # 0 = no spacing
    size: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RuleSet:
        size = params.get("size")
        return cls(
            block_items=_strings(params, "block_items"),
            block_categories=_strings(params, "block_categories"),
            boost_items=_boosts(params, "boost_items"),
            boost_categories=_boosts(params, "boost_categories"),
            category_cap=param(params, "category_cap", 0, int, 0, 10_000),
            author_spacing=param(params, "author_spacing", 0, int, 0, 10_000),
            size=None if size is None else param(params, "size", 0, int, 1, 10_000),
        )


class BusinessRules(Stage, kind=StageKind.RE_RANK, names=("rules",)):
    def __init__(self, rules: RuleSet, artifacts: RankArtifacts | None = None) -> None:
        self.rules = rules
        self.artifacts = artifacts

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> BusinessRules:
        artifacts = RankArtifacts.of(resources) if getattr(resources, "artifacts", None) is not None else None
        return cls(RuleSet.from_params(params), artifacts)

    def _attributes(self, candidate: Candidate) -> tuple[str, str]:
        if candidate.item is not None:
            return candidate.item.category, candidate.item.author
        if self.artifacts is not None:
            row = self.artifacts.item_rows.get(candidate.item_id)
            if row is not None:
                return str(self.artifacts.item_category[row]), str(self.artifacts.item_author[row])
        return "", ""

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        rules = self.rules
        kept: list[tuple[Candidate, str, str]] = []
        for candidate in candidates:
            category, author = self._attributes(candidate)
            if candidate.item_id in rules.block_items or category in rules.block_categories:
                continue
            boost = rules.boost_items.get(candidate.item_id, 0.0) + rules.boost_categories.get(category, 0.0)
            if boost:
                candidate.score += boost
                candidate.scores[self.name] = boost
            kept.append((candidate, category, author))
        if rules.boost_items or rules.boost_categories:
            kept.sort(key=lambda entry: -entry[0].score)  # stable: ties keep the incoming order
        if not (rules.category_cap or rules.author_spacing):
            return [c for c, _, _ in kept]
        size = min(rules.size or query.wanted, len(kept))
        head: list[tuple[Candidate, str, str]] = []
        per_category: Counter[str] = Counter()
        remaining = kept
        while len(head) < size:
            chosen = 0
            for index, (_, category, author) in enumerate(remaining):
                if rules.category_cap and category and per_category[category] >= rules.category_cap:
                    continue
                recent = head[-rules.author_spacing :] if rules.author_spacing else []
                if author and any(author == other for _, _, other in recent):
                    continue
                chosen = index
                break
            entry = remaining[chosen]
            remaining = remaining[:chosen] + remaining[chosen + 1 :]
            head.append(entry)
            per_category[entry[1]] += 1
        return [c for c, _, _ in head + remaining]
