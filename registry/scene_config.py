"""The per-scene configuration (one Nacos dataId per scene), as frozen typed models.

A scene is what a request's ``dataId`` / ``groupId`` / ``namespaceId`` select (SEED-SYSTEM.md). Its
document, in the seed system's layout (``content.config`` holding the sections; the outer ``dataId``,
``group``, ``namespace`` and ``content`` wrappers are optional)::

    model_conf     {"<key>": {modelName, modelType recall|rank, featureList,
                              tfservingGrpcAddr {tfservingModelName, tfservingAddrs, pool_size, ...},
                              user_feature_rediskey_pre_offline, ..._realtime, item_feature_rediskey_pre,
                              fusion (ours, rank models on TF Serving: apply the artifacts' learned fusion)}}
    index_conf     {faissGrpcAddr {addrs, pool_size, ...}, indexInfo [{indexName, recallNum}] or {name: {...}}}
    redis_conf     {redisCluster {addrs, password, idleTimeoutMs, ..., maxRetries, minIdleConns}}
    pipeline_conf  {pipeline [(stage, implementation) ...], recallNum, preRankingNum,
                    pipeline_light [...], recallNumLight, preRankingNumLight}

The seed's spellings are accepted as aliases of ours: ``pipiline_conf`` for ``pipeline_conf``,
``addrs`` for ``tfservingAddrs``, ``user_feature_rediskey_pre`` for ``..._offline``, ``indexInfo`` as a
list or as an object keyed by name, steps as the seed's strings ``"('ranking','deepfm')"``, as
``["ranking", "deepfm"]`` or as ``{"stage": "ranking", "implementation": "deepfm"}``. Every section is
optional (a scene may use only the defaults of the pipeline); unknown keys are errors.

``parse_scene_config(text)`` validates JSON text into a ``SceneConfig`` or raises ``SceneConfigError``
with the path of the first bad value. No I/O here; ``registry.config_center`` fetches and swaps.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.registry._reader import Reader, address, child_path, integer, list_of, name, string
from dubbo_recsys.registry.errors import SceneConfigError

__all__ = [
    "GrpcPoolConf",
    "IndexConf",
    "IndexInfo",
    "ModelConf",
    "ModelType",
    "PipelineConf",
    "PipelineStep",
    "RedisConf",
    "SceneConfig",
    "StepKind",
    "TfServingConf",
    "parse_scene_config",
    "scene_config_from_dict",
]

_MS = integer(0, 600_000)
#: Nacos refuses configs over 100 KiB by default; a local file may be larger, but not unbounded.
MAX_DOCUMENT_BYTES = 1 << 20
_STEP_TEXT = re.compile(r"""\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)\Z""")


class ModelType(enum.Enum):
    RECALL = "recall"
    RANK = "rank"


class StepKind(enum.Enum):
    """What a pipeline step does; the values are ``pipeline.model.StageKind``'s."""

    HYDRATE = "hydrate"
    RECALL = "recall"
    PRE_RANK = "pre_rank"
    RANK = "rank"
    RE_RANK = "re_rank"


# The seed's stage names (and ours) -> kind. Unknown stage names are configuration errors.
_STAGE_KINDS = {
    "recall_sample": StepKind.HYDRATE,
    "pre_ranking_sample": StepKind.HYDRATE,
    "ranking_sample": StepKind.HYDRATE,
    "hydrate": StepKind.HYDRATE,
    "recall": StepKind.RECALL,
    "pre_ranking": StepKind.PRE_RANK,
    "pre_rank": StepKind.PRE_RANK,
    "ranking": StepKind.RANK,
    "rank": StepKind.RANK,
    "light_ranking": StepKind.RANK,
    "re_rank": StepKind.RE_RANK,
    "re_ranking": StepKind.RE_RANK,
}
_ORDER = [StepKind.RECALL, StepKind.PRE_RANK, StepKind.RANK, StepKind.RE_RANK]


@dataclass(frozen=True)
class GrpcPoolConf:
    """A pool of gRPC connections to one service (TF Serving, the Faiss index service)."""

    addrs: tuple[str, ...] = ()
    pool_size: int = 50
    init_cap: int = 10
    idle_timeout_ms: int = 100
    read_timeout_ms: int = 100
    write_timeout_ms: int = 100
    dial_timeout_s: int = 600


@dataclass(frozen=True)
class TfServingConf:
    model_name: str
    pool: GrpcPoolConf = GrpcPoolConf()
    model_version: int = 0  # 0 = the latest the server has
    signature_name: str = "serving_default"


@dataclass(frozen=True)
class ModelConf:
    key: str
    model_name: str
    model_type: ModelType
    feature_list: tuple[str, ...] = ()
    tfserving: TfServingConf | None = None
    user_offline_prefix: str = ""
    user_realtime_prefix: str = ""
    item_prefix: str = ""
    fusion: bool = False  # ours: a TF Serving rank model that is the artifacts' DIN gets their learned fusion


@dataclass(frozen=True)
class IndexInfo:
    index_name: str
    recall_num: int


@dataclass(frozen=True)
class IndexConf:
    faiss: GrpcPoolConf = GrpcPoolConf()
    indexes: tuple[IndexInfo, ...] = ()


@dataclass(frozen=True)
class RedisConf:
    addrs: tuple[str, ...] = ()
    password: str = field(default="", repr=False)
    idle_timeout_ms: int = 100
    read_timeout_ms: int = 100
    write_timeout_ms: int = 100
    dial_timeout_s: int = 600
    max_retries: int = 2
    min_idle_conns: int = 50


@dataclass(frozen=True)
class PipelineStep:
    stage: str
    implementation: str

    @property
    def kind(self) -> StepKind:
        return _STAGE_KINDS.get(self.stage, StepKind.RECALL)


@dataclass(frozen=True)
class PipelineConf:
    steps: tuple[PipelineStep, ...] = ()
    recall_num: int = 1000
    pre_ranking_num: int = 200
    light_steps: tuple[PipelineStep, ...] = ()
    recall_num_light: int = 100
    pre_ranking_num_light: int = 10


@dataclass(frozen=True)
class SceneConfig:
    """One scene's configuration; immutable, so a reader keeps a consistent view while it is replaced."""

    data_id: str
    group: str
    models: tuple[ModelConf, ...] = ()
    index: IndexConf | None = None
    redis: RedisConf | None = None
    pipeline: PipelineConf | None = None
    version: str = ""
    author: str = ""
    description: str = ""

    def model(self, key_or_name: str) -> ModelConf | None:
        """The model with that ``model_conf`` key or ``modelName``."""
        for model in self.models:
            if key_or_name in (model.key, model.model_name):
                return model
        return None


def parse_scene_config(text: str | bytes, *, data_id: str = "", group: str = "DEFAULT_GROUP") -> SceneConfig:
    """Validate a scene document (JSON text); ``data_id`` / ``group`` apply when the document has none."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SceneConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(text, str):
        raise SceneConfigError(f"expected JSON text, got {type(text).__name__}")
    if len(text) > MAX_DOCUMENT_BYTES:
        raise SceneConfigError(f"document of {len(text)} characters is over the {MAX_DOCUMENT_BYTES} limit")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SceneConfigError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise SceneConfigError("JSON nested too deeply") from None
    return scene_config_from_dict(document, data_id=data_id, group=group)


def scene_config_from_dict(document: object, *, data_id: str = "", group: str = "DEFAULT_GROUP") -> SceneConfig:
    outer = Reader(document, "$")
    data_id = outer.take("dataId", name, data_id)
    group = outer.take("group", name, group) or "DEFAULT_GROUP"
    outer.take("namespace", string, "")
    if not data_id:
        raise SceneConfigError("the scene has no dataId (give one in the document or where it is loaded)")
    if outer.has("content"):
        content = Reader(outer.take("content", _object), "$.content")
        outer.finish()
    else:
        content = outer
    meta = {key: content.take(key, string, "") for key in ("author", "update", "version", "desc")}
    if content.has("config"):
        sections = Reader(content.take("config", _object), child_path(content.path, "config"))
        content.finish()
    else:
        sections = content
    scene = SceneConfig(
        data_id=data_id,
        group=group,
        models=sections.take(("model_conf", "modelConf"), _models, ()),
        index=sections.take(("index_conf", "indexConf"), _index, None),
        redis=sections.take(("redis_conf", "redisConf"), _redis, None),
        pipeline=sections.take(("pipeline_conf", "pipiline_conf", "pipelineConf"), _pipeline, None),
        version=meta["version"],
        author=meta["author"],
        description=meta["desc"],
    )
    sections.finish()
    return scene


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise SceneConfigError(f"expected true or false, got {value!r}", path)
    return value


def _object(value: object, path: str) -> Mapping[str, Any]:
    return Reader(value, path).data


def _pool(
    value: object, path: str, addr_names: tuple[str, ...] = ("addrs",), extra: tuple[str, ...] = ()
) -> GrpcPoolConf:
    r = Reader(value, path, ignored=extra)
    pool = GrpcPoolConf(
        addrs=r.take(addr_names, list_of(address), ()),
        pool_size=r.take(("pool_size", "poolSize"), integer(1, 10_000), 50),
        init_cap=r.take(("initCap", "init_cap"), integer(0, 10_000), 10),
        idle_timeout_ms=r.take(("idleTimeoutMs", "idle_timeout_ms"), _MS, 100),
        read_timeout_ms=r.take(("readTimeoutMs", "read_timeout_ms"), _MS, 100),
        write_timeout_ms=r.take(("writeTimeoutMs", "write_timeout_ms"), _MS, 100),
        dial_timeout_s=r.take(("dialTimeoutS", "dial_timeout_s"), integer(0, 3600), 600),
    )
    r.finish()
    if pool.init_cap > pool.pool_size:
        raise SceneConfigError(f"initCap {pool.init_cap} is larger than pool_size {pool.pool_size}", path)
    return pool


def _tfserving(value: object, path: str) -> TfServingConf:
    r = Reader(value, path)
    model_name = r.take(("tfservingModelName", "modelName"), name)
    version = r.take(("modelVersion", "tfservingModelVersion"), integer(0, 2**31 - 1), 0)
    signature = r.take(("signatureName", "signature"), name, "serving_default")
    pool = _pool(
        value,
        path,
        ("tfservingAddrs", "addrs"),
        extra=(
            "tfservingModelName",
            "modelName",
            "modelVersion",
            "tfservingModelVersion",
            "signatureName",
            "signature",
        ),
    )
    return TfServingConf(model_name=model_name, pool=pool, model_version=version, signature_name=signature)


def _models(value: object, path: str) -> tuple[ModelConf, ...]:
    models = []
    for key, body in Reader(value, path).data.items():
        at = child_path(path, key)
        r = Reader(body, at, ignored=("fieldsSpec",))  # fieldsSpec: an early seed placeholder, unused
        kind = r.take(("modelType", "model_type"), string)
        try:
            model_type = ModelType(kind)
        except ValueError:
            raise SceneConfigError(
                f"modelType must be 'recall' or 'rank', not {kind!r}", child_path(at, "modelType")
            ) from None
        models.append(
            ModelConf(
                key=key,
                model_name=r.take(("modelName", "model_name"), name),
                model_type=model_type,
                feature_list=r.take(("featureList", "feature_list"), list_of(name), ()),
                tfserving=r.take(("tfservingGrpcAddr", "tfserving"), _tfserving, None),
                user_offline_prefix=r.take(
                    ("user_feature_rediskey_pre_offline", "user_feature_rediskey_pre", "userOfflineFeaturePrefix"),
                    string,
                    "",
                ),
                user_realtime_prefix=r.take(
                    ("user_feature_rediskey_pre_realtime", "userRealtimeFeaturePrefix"), string, ""
                ),
                item_prefix=r.take(("item_feature_rediskey_pre", "itemFeaturePrefix"), string, ""),
                fusion=r.take(("fusion",), _boolean, False),
            )
        )
        r.finish()
    return tuple(models)


def _index_info(value: object, path: str, key: str | None = None) -> IndexInfo:
    r = Reader(value, path)
    index_name = r.take(("indexName", "index_name"), name, key)
    if index_name is None:
        raise SceneConfigError("missing 'indexName'", path)
    info = IndexInfo(index_name=index_name, recall_num=r.take(("recallNum", "recall_num"), integer(1, 100_000)))
    r.finish()
    return info


def _index(value: object, path: str) -> IndexConf:
    r = Reader(value, path)
    faiss = r.take(("faissGrpcAddr", "faiss"), _pool, GrpcPoolConf())
    raw = r.take(("indexInfo", "indexes"), lambda v, p: (v, p), None)
    r.finish()
    indexes: list[IndexInfo] = []
    if raw is not None:
        info, at = raw
        if isinstance(info, list):
            indexes = [_index_info(item, child_path(at, i)) for i, item in enumerate(info)]
        else:
            indexes = [_index_info(item, child_path(at, key), key) for key, item in Reader(info, at).data.items()]
    return IndexConf(faiss=faiss, indexes=tuple(indexes))


def _redis(value: object, path: str) -> RedisConf:
    outer = Reader(value, path)
    if outer.has("redisCluster", "redis"):
        body = outer.take(("redisCluster", "redis"), lambda v, p: (v, p))
        outer.finish()
        value, path = body
    r = Reader(value, path)
    conf = RedisConf(
        addrs=r.take(("addrs", "addresses"), list_of(address), ()),
        password=r.take("password", string, ""),
        idle_timeout_ms=r.take(("idleTimeoutMs", "idle_timeout_ms"), _MS, 100),
        read_timeout_ms=r.take(("readTimeoutMs", "read_timeout_ms"), _MS, 100),
        write_timeout_ms=r.take(("writeTimeoutMs", "write_timeout_ms"), _MS, 100),
        dial_timeout_s=r.take(("dialTimeoutS", "dial_timeout_s"), integer(0, 3600), 600),
        max_retries=r.take(("maxRetries", "max_retries"), integer(0, 100), 2),
        min_idle_conns=r.take(("minIdleConns", "min_idle_conns"), integer(0, 10_000), 50),
    )
    r.finish()
    return conf


def _step(value: object, path: str) -> PipelineStep:
    if isinstance(value, str):
        match = _STEP_TEXT.match(value.strip())
        if not match:
            raise SceneConfigError(f"step {value!r} is not written ('stage','implementation')", path)
        stage, implementation = match.groups()
    elif isinstance(value, list):
        if len(value) != 2 or not all(isinstance(v, str) for v in value):
            raise SceneConfigError("a step list must be [stage, implementation]", path)
        stage, implementation = value
    else:
        r = Reader(value, path)
        stage = r.take("stage", string)
        implementation = r.take(("implementation", "impl"), string)
        r.finish()
    if stage not in _STAGE_KINDS and not stage.endswith("_recall"):
        raise SceneConfigError(
            f"unknown stage {stage!r}; known: {', '.join(sorted(_STAGE_KINDS))} and any '<name>_recall'", path
        )
    if not implementation.strip():
        raise SceneConfigError(f"stage {stage!r} names no implementation", path)
    return PipelineStep(stage=stage, implementation=implementation)


def _steps(value: object, path: str) -> tuple[PipelineStep, ...]:
    steps = list_of(_step)(value, path)
    if steps and not any(step.kind is StepKind.RECALL for step in steps):
        raise SceneConfigError("a pipeline needs at least one recall step", path)
    position = 0
    for i, step in enumerate(steps):
        if step.kind is StepKind.HYDRATE:
            continue
        rank = _ORDER.index(step.kind)
        if rank < position:
            raise SceneConfigError(
                f"step {step.stage!r} ({step.kind.value}) comes after a later kind of step", child_path(path, i)
            )
        position = rank
    return steps


def _pipeline(value: object, path: str) -> PipelineConf:
    r = Reader(value, path)
    conf = PipelineConf(
        steps=r.take(("pipeline", "steps"), _steps, ()),
        recall_num=r.take(("recallNum", "recall_num"), integer(1, 100_000), 1000),
        pre_ranking_num=r.take(("preRankingNum", "pre_ranking_num"), integer(1, 100_000), 200),
        light_steps=r.take(("pipeline_light", "pipelineLight", "light_steps"), _steps, ()),
        recall_num_light=r.take(("recallNumLight", "recall_num_light"), integer(1, 100_000), 100),
        pre_ranking_num_light=r.take(("preRankingNumLight", "pre_ranking_num_light"), integer(1, 100_000), 10),
    )
    r.finish()
    if conf.pre_ranking_num > conf.recall_num:
        raise SceneConfigError(f"preRankingNum {conf.pre_ranking_num} exceeds recallNum {conf.recall_num}", path)
    if conf.pre_ranking_num_light > conf.recall_num_light:
        raise SceneConfigError(
            f"preRankingNumLight {conf.pre_ranking_num_light} exceeds recallNumLight {conf.recall_num_light}", path
        )
    return conf
