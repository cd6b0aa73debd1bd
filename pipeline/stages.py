"""Stage protocol and the catalog that turns configured names into stage objects.

A scene's config lists steps as ``(stage kind, implementation name)``, e.g. the
seed's ``ranking(deepfm)``. The catalog maps those names to classes that declare
themselves with class keywords::

    class DeepFMRanker(Stage, kind=StageKind.RANK, names=("deepfm",)):
        ...

so a name is resolved by a table lookup keyed by (kind, name), never by string
matching in code, and an unknown name is a configuration error raised when the
pipeline is built, not while it serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dubbo_recsys.pipeline.model import Candidate, PipelineError, Query, StageKind


class ConfigError(PipelineError):
    """A pipeline config names a stage or parameter that does not exist."""


class Stage:
    """One step of a pipeline. Subclasses set ``kind`` and ``names`` by class keyword.

    ``run`` receives the candidates of the previous step and returns the next
    list; it must respect ``query.remaining()`` for its own downstream calls.
    """

    kind: ClassVar[StageKind]
    names: ClassVar[tuple[str, ...]]
    _catalog: ClassVar[dict[tuple[StageKind, str], type[Stage]]] = {}

    def __init_subclass__(cls, *, kind: StageKind | None = None, names: tuple[str, ...] = (), **kw: Any):
        super().__init_subclass__(**kw)
        if kind is None:
            return  # an abstract helper base, not a selectable implementation
        cls.kind = kind
        cls.names = tuple(names) or (cls.__name__,)
        for name in cls.names:
            key = (kind, name.lower())
            other = Stage._catalog.get(key)
            if other is not None and other is not cls:
                raise ConfigError(f"stage name {name!r} of kind {kind.value} is taken by {other.__name__}")
            Stage._catalog[key] = cls

    @property
    def name(self) -> str:
        return self.names[0]

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        raise NotImplementedError


def stage_class(kind: StageKind, name: str) -> type[Stage]:
    """The class implementing ``name`` for ``kind``; ``ConfigError`` if none does."""
    found = Stage._catalog.get((kind, name.lower()))
    if found is None:
        known = sorted(n for k, n in Stage._catalog if k is kind)
        raise ConfigError(f"no {kind.value} stage named {name!r}; known: {', '.join(known) or 'none'}")
    return found


def build_stage(kind: StageKind, name: str, resources: Any, params: Mapping[str, Any] | None = None) -> Stage:
    """Instantiate a configured stage: ``cls.from_config(resources, params)``."""
    cls = stage_class(kind, name)
    factory = getattr(cls, "from_config", None)
    if factory is None:
        raise ConfigError(f"stage {cls.__name__} cannot be built from config")
    stage: Stage = factory(resources, dict(params or {}))
    return stage
