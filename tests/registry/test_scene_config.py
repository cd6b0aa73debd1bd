"""Scene config validation: the seed's layout and spellings, our own, and errors that say where."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubbo_recsys.registry import SceneConfig, SceneConfigError, parse_scene_config
from dubbo_recsys.registry.scene_config import ModelType, StepKind
from tests.registry.scenes import SEED_STYLE, seed_style, text


def test_seed_style_document() -> None:
    scene = parse_scene_config(text(SEED_STYLE))
    assert (scene.data_id, scene.group, scene.version, scene.author, scene.description) == (
        "scene-001",
        "infer",
        "v1",
        "tests",
        "home feed",
    )
    dssm, deepfm = scene.models
    assert (dssm.key, dssm.model_name, dssm.model_type, dssm.feature_list) == (
        "model-001",
        "dssm",
        ModelType.RECALL,
        ("user_id", "age"),
    )
    assert dssm.tfserving is not None and dssm.tfserving.model_name == "dssm"
    assert (dssm.tfserving.pool.addrs, dssm.tfserving.pool.pool_size, dssm.tfserving.pool.read_timeout_ms) == (
        ("127.0.0.1:8500",),
        20,
        80,
    )
    assert (dssm.user_offline_prefix, dssm.user_realtime_prefix, dssm.item_prefix) == ("uo:", "ur:", "it:")
    assert deepfm.tfserving is not None and deepfm.tfserving.pool.addrs == ("tf-serving:8500",)  # 'addrs' alias
    assert deepfm.user_offline_prefix == "uo:"  # the older single prefix key
    assert scene.model("deepfm") is deepfm and scene.model("model-001") is dssm and scene.model("x") is None
    assert scene.index is not None
    assert [(i.index_name, i.recall_num) for i in scene.index.indexes] == [("items-a", 500), ("items-b", 300)]
    assert scene.redis is not None and (scene.redis.addrs, scene.redis.max_retries) == (("127.0.0.1:6379",), 1)
    assert "pw" not in repr(scene.redis)
    pipeline = scene.pipeline
    assert pipeline is not None
    assert [(s.stage, s.implementation, s.kind) for s in pipeline.steps] == [
        ("recall_sample", "recallSample", StepKind.HYDRATE),
        ("dssm_recall", "dssmRecall", StepKind.RECALL),
        ("pre_ranking_sample", "preRankingSample", StepKind.HYDRATE),
        ("pre_ranking", "dssmRank", StepKind.PRE_RANK),
        ("ranking_sample", "rankingSample", StepKind.HYDRATE),
        ("ranking", "deepfm", StepKind.RANK),
        ("re_rank", "reRank", StepKind.RE_RANK),
    ]
    assert [s.implementation for s in pipeline.light_steps] == ["recallSample", "fmRecall", "lrRank"]
    assert (
        pipeline.recall_num,
        pipeline.pre_ranking_num,
        pipeline.recall_num_light,
        pipeline.pre_ranking_num_light,
    ) == (1000, 200, 100, 10)


def test_scene_is_frozen() -> None:
    scene = parse_scene_config(text(SEED_STYLE))
    with pytest.raises(AttributeError):
        scene.group = "other"  # type: ignore[misc]  # frozen: the assignment must fail


def test_our_spelling_and_bare_sections() -> None:
    document = {
        "model_conf": {},
        "pipeline_conf": {"steps": [["dssm_recall", "dssm"], {"stage": "ranking", "implementation": "deepfm"}]},
        "index_conf": {"indexes": {"items-a": {"recallNum": 10}}},
    }
    scene = parse_scene_config(json.dumps(document), data_id="d", group="g")
    assert (scene.data_id, scene.group, scene.models, scene.redis) == ("d", "g", (), None)
    assert scene.pipeline is not None and [s.kind for s in scene.pipeline.steps] == [StepKind.RECALL, StepKind.RANK]
    assert scene.index is not None and scene.index.indexes[0].index_name == "items-a"


def test_minimal_document() -> None:
    assert parse_scene_config('{"dataId": "only"}') == SceneConfig(data_id="only", group="DEFAULT_GROUP")


@pytest.mark.parametrize(
    "document, path, reason",
    [
        (
            seed_style(model_conf={"m": {"modelName": "x", "modelType": "score"}}),
            "$.content.config.model_conf.m.modelType",
            "modelType must be 'recall' or 'rank'",
        ),
        (
            seed_style(model_conf={"m": {"modelName": "x", "modelType": "rank", "fusion": "yes"}}),
            "$.content.config.model_conf.m.fusion",
            "expected true or false",
        ),
        (
            seed_style(
                model_conf={
                    "m": {
                        "modelName": "x",
                        "modelType": "rank",
                        "tfservingGrpcAddr": {"tfservingModelName": "x", "pool_size": "50"},
                    }
                }
            ),
            "$.content.config.model_conf.m.tfservingGrpcAddr.pool_size",
            "expected an integer, got a string",
        ),
        (
            seed_style(
                model_conf={
                    "model-1": {
                        "modelName": "x",
                        "modelType": "rank",
                        "tfservingGrpcAddr": {"tfservingModelName": "x", "addrs": ["no-port"]},
                    }
                }
            ),
            '$.content.config.model_conf["model-1"].tfservingGrpcAddr.addrs[0]',
            "is not a host:port address",
        ),
        (
            seed_style(
                model_conf={
                    "m": {
                        "modelName": "x",
                        "modelType": "rank",
                        "tfservingGrpcAddr": {"tfservingModelName": "x", "addrs": [], "tfservingAddrs": []},
                    }
                }
            ),
            "$.content.config.model_conf.m.tfservingGrpcAddr",
            "are aliases; give one",
        ),
        (
            seed_style(model_conf={"m": {"modelName": "x", "modelType": "rank", "featurList": []}}),
            "$.content.config.model_conf.m",
            "unknown key 'featurList'",
        ),
        (seed_style(model_conf={"m": {"modelType": "rank"}}), "$.content.config.model_conf.m", "missing 'modelName'"),
        (
            seed_style(index_conf={"indexInfo": [{"indexName": "a", "recallNum": 0}]}),
            "$.content.config.index_conf.indexInfo[0].recallNum",
            "0 is out of range",
        ),
        (
            seed_style(index_conf={"indexInfo": [{"recallNum": 5}]}),
            "$.content.config.index_conf.indexInfo[0]",
            "missing 'indexName'",
        ),
        (
            seed_style(index_conf={"faissGrpcAddr": {"pool_size": 2, "initCap": 3}}),
            "$.content.config.index_conf.faissGrpcAddr",
            "initCap 3 is larger than pool_size 2",
        ),
        (
            seed_style(redis_conf={"redisCluster": {"maxRetries": True}}),
            "$.content.config.redis_conf.redisCluster.maxRetries",
            "expected an integer, got a boolean",
        ),
        (
            seed_style(pipiline_conf={"pipeline": ["recall_sample,recallSample"]}),
            "$.content.config.pipiline_conf.pipeline[0]",
            "is not written ('stage','implementation')",
        ),
        (
            seed_style(pipiline_conf={"pipeline": ["('scoring','x')", "('dssm_recall','d')"]}),
            "$.content.config.pipiline_conf.pipeline[0]",
            "unknown stage 'scoring'",
        ),
        (
            seed_style(pipiline_conf={"pipeline": ["('ranking','deepfm')", "('dssm_recall','d')"]}),
            "$.content.config.pipiline_conf.pipeline[1]",
            "comes after a later kind of step",
        ),
        (
            seed_style(pipiline_conf={"pipeline": ["('ranking','deepfm')"]}),
            "$.content.config.pipiline_conf.pipeline",
            "at least one recall step",
        ),
        (
            seed_style(pipiline_conf={"recallNum": 100, "preRankingNum": 200}),
            "$.content.config.pipiline_conf",
            "preRankingNum 200 exceeds recallNum 100",
        ),
        (seed_style(pipeline_conf={}), "$.content.config", "'pipeline_conf' and 'pipiline_conf' are aliases"),
        (seed_style(extra_conf={}), "$.content.config", "unknown key 'extra_conf'"),
        ({"content": {"config": []}}, "$.content.config", "expected an object, got a list"),
        ([], "$", "expected an object, got a list"),
    ],
)
def test_errors_say_where(document: object, path: str, reason: str) -> None:
    with pytest.raises(SceneConfigError) as info:
        parse_scene_config(json.dumps(document), data_id="d")
    assert info.value.path == path
    assert reason in info.value.reason
    assert str(info.value).endswith(f" - at {path}")


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
        ('{"dataId": "d", "x": "' + "a" * (1 << 20) + '"}', "over the"),
        ('{"content": {}}', "has no dataId"),
    ],
)
def test_unreadable_documents(raw: str | bytes, reason: str) -> None:
    with pytest.raises(SceneConfigError, match=reason):
        parse_scene_config(raw)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 2000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "dataId",
                    "content",
                    "config",
                    "model_conf",
                    "pipiline_conf",
                    "pipeline",
                    "index_conf",
                    "indexInfo",
                    "recallNum",
                    "indexName",
                    "modelType",
                    "modelName",
                    "redis_conf",
                    "addrs",
                    "stage",
                    "implementation",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_validates_or_raises_our_error(document: object) -> None:
    try:
        scene = parse_scene_config(json.dumps(document), data_id="d")
    except SceneConfigError:
        return
    assert isinstance(scene, SceneConfig)
