"""Scene documents for the tests, written in the seed system's layout (SEED-SYSTEM.md)."""

from __future__ import annotations

import copy
import json
from typing import Any

SEED_STYLE: dict[str, Any] = {
    "dataId": "scene-001",
    "group": "infer",
    "namespace": "",
    "content": {
        "_comment": "the seed kept a comment here",
        "author": "tests",
        "update": "",
        "version": "v1",
        "desc": "home feed",
        "config": {
            "model_conf": {
                "model-001": {
                    "modelName": "dssm",
                    "modelType": "recall",
                    "featureList": ["user_id", "age"],
                    "tfservingGrpcAddr": {
                        "tfservingModelName": "dssm",
                        "tfservingAddrs": ["127.0.0.1:8500"],
                        "pool_size": 20,
                        "initCap": 5,
                        "idleTimeoutMs": 100,
                        "readTimeoutMs": 80,
                        "writeTimeoutMs": 80,
                        "dialTimeoutS": 60,
                    },
                    "user_feature_rediskey_pre_offline": "uo:",
                    "user_feature_rediskey_pre_realtime": "ur:",
                    "item_feature_rediskey_pre": "it:",
                },
                "model-002": {
                    "modelName": "deepfm",
                    "modelType": "rank",
                    "featureList": [],
                    "tfservingGrpcAddr": {"tfservingModelName": "deepfm", "addrs": ["tf-serving:8500"]},
                    "user_feature_rediskey_pre": "uo:",
                },
            },
            "index_conf": {
                "faissGrpcAddr": {"addrs": ["127.0.0.1:9100"], "pool_size": 10},
                "indexInfo": [{"recallNum": 500, "indexName": "items-a"}, {"recallNum": 300, "indexName": "items-b"}],
            },
            "redis_conf": {
                "redisCluster": {"addrs": ["127.0.0.1:6379"], "password": "pw", "maxRetries": 1, "minIdleConns": 4}
            },
            "pipiline_conf": {
                "pipeline": [
                    "('recall_sample','recallSample')",
                    "('dssm_recall','dssmRecall')",
                    "('pre_ranking_sample','preRankingSample')",
                    "('pre_ranking','dssmRank')",
                    "('ranking_sample','rankingSample')",
                    "('ranking','deepfm')",
                    "('re_rank','reRank')",
                ],
                "recallNum": 1000,
                "preRankingNum": 200,
                "pipeline_light": [
                    "('recall_sample','recallSample')",
                    "('fm_recall','fmRecall')",
                    "('light_ranking','lrRank')",
                ],
                "recallNumLight": 100,
                "preRankingNumLight": 10,
            },
        },
    },
}


def seed_style(**changes: Any) -> dict[str, Any]:
    """A deep copy with top-level (dataId/group) or config-section changes applied."""
    document = copy.deepcopy(SEED_STYLE)
    for key, value in changes.items():
        if key in ("dataId", "group", "version"):
            target = document if key != "version" else document["content"]
            target[key] = value
        else:
            document["content"]["config"][key] = value
    return document


def text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1)
