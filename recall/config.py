"""Recall configuration: one frozen, validated object, loaded once.

``channels`` maps each ``ChannelKind`` to its ``ChannelPolicy`` (quota, fusion
weight, timeout); a kind left out is not built. The defaults of the CF and hot
channels were tuned on half of the ML-100K users (``dubbo-recsys eval --tune``,
see ``bench/recall/RESULTS.md``): item-CF carries most weight, swing and
user-CF add what it misses, hot is the floor. Quotas are per channel *before*
fusion: a deep quota lets a channel's tail outvote another's head.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dubbo_recsys.recall.base import ChannelKind, RecallConfigError
from dubbo_recsys.recall.merger import ChannelPolicy

DEFAULT_POLICIES: Mapping[ChannelKind, ChannelPolicy] = MappingProxyType(
    {
        # tuned with `dubbo-recsys eval --tune --seed 0` on ML-100K, CF only (bench/recall/RESULTS.md)
        ChannelKind.ITEM_CF: ChannelPolicy(quota=50, weight=1.0),
        ChannelKind.SWING: ChannelPolicy(quota=50, weight=0.5),
        ChannelKind.USER_CF: ChannelPolicy(quota=100, weight=0.25),
        ChannelKind.HOT: ChannelPolicy(quota=50, weight=0.25),
        # not tuned yet (CI builds no two-tower): modest weights so they add candidates, not noise
        ChannelKind.I2I: ChannelPolicy(quota=100, weight=0.25),
        ChannelKind.U2I: ChannelPolicy(quota=200, weight=0.5),
        ChannelKind.LOOKALIKE: ChannelPolicy(quota=200, weight=1.0),
        ChannelKind.NEW_ITEMS: ChannelPolicy(quota=50, weight=0.25),
        # realtime only (empty without events): the hot list of the last hour, weighted like hot
        ChannelKind.TRENDING: ChannelPolicy(quota=50, weight=0.25),
    }
)


@dataclass(frozen=True)
class RecallConfig:
    """Everything recall can be told; ``replace`` (``dataclasses.replace``) to vary it."""

    channels: Mapping[ChannelKind, ChannelPolicy] = field(default_factory=lambda: DEFAULT_POLICIES)
    history: int = 50  # lastN items the item-neighbour channels read
    decay: float = 0.4  # recency weight per lastN position for item-CF / swing / i2i (tuned, see RESULTS)
    user_cf_items: int = 50  # recent items read per similar user
    user_cf_decay: float = 0.98
    fusion_offset: float = 60.0  # reciprocal-rank fusion: weight / (offset + rank)
    offload_search: bool = False  # run Faiss searches in a worker thread
    user_tower: bool = True  # use models/two_tower/user_tower (TensorFlow) for users without a stored vector
    item_tower: bool = True  # use models/two_tower/item_tower (TensorFlow) for items that arrive after the build
    max_k: int = 10_000

    def __post_init__(self) -> None:
        if not isinstance(self.channels, Mapping) or not all(
            isinstance(k, ChannelKind) and isinstance(v, ChannelPolicy) for k, v in self.channels.items()
        ):
            raise RecallConfigError("channels must map ChannelKind to ChannelPolicy")
        if ChannelKind.HOT not in self.channels:
            raise RecallConfigError("the hot channel is the floor of recall and cannot be left out")
        object.__setattr__(self, "channels", MappingProxyType(dict(self.channels)))
        if self.history <= 0 or self.user_cf_items <= 0 or self.max_k <= 0:
            raise RecallConfigError("history, user_cf_items and max_k must be positive")
        for name in ("decay", "user_cf_decay"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 < value <= 1.0):
                raise RecallConfigError(f"{name} must be in (0, 1], got {value!r}")
        if not (math.isfinite(self.fusion_offset) and self.fusion_offset > 0):
            raise RecallConfigError(f"fusion_offset must be > 0, got {self.fusion_offset!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RecallConfig:
        """From plain data (a scene config): ``{"channels": {"itemcf": {"quota": 300, ...}}, "history": 50}``."""
        values = dict(data)
        raw_channels = values.pop("channels", None)
        unknown = set(values) - {f for f in cls.__dataclass_fields__ if f != "channels"}
        if unknown:
            raise RecallConfigError(f"unknown recall settings: {sorted(unknown)}")
        if raw_channels is not None:
            if not isinstance(raw_channels, Mapping):
                raise RecallConfigError("channels must be an object of channel name -> policy")
            policies: dict[ChannelKind, ChannelPolicy] = {}
            for name, policy in raw_channels.items():
                try:
                    kind = ChannelKind(name)
                except ValueError as exc:
                    known = ", ".join(k.value for k in ChannelKind)
                    raise RecallConfigError(f"unknown recall channel {name!r}; known: {known}") from exc
                try:
                    policies[kind] = ChannelPolicy(**dict(policy))
                except TypeError as exc:
                    raise RecallConfigError(f"channel {name}: {exc}") from exc
            values["channels"] = policies
        try:
            return cls(**values)
        except TypeError as exc:
            raise RecallConfigError(str(exc)) from exc
