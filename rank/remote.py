"""Rank remotely on TF Serving: ``tensorflow.serving.PredictionService/Predict`` (the seed's contract).

One request per ranking call, all candidates in one batch::

    model_spec    name from config; version omitted when 0 (TF Serving then serves the latest);
                  signature_name "serving_default"
    inputs        userExamples         DT_STRING [1]  tf.Example: "last_n" item ids, "profile" field=value tokens
                  userContextExamples  DT_STRING [1]  tf.Example: "context" key=value tokens (may be empty)
                  itemExamples         DT_STRING [N]  tf.Example each: "item_id"
    output        scores               DT_FLOAT  [N]  same order

The call runs through a ``pipeline.Downstream`` (circuit breaker + concurrency
bound) with the smaller of the configured timeout and what is left of the
query's deadline; one ``grpc.aio`` channel is opened on first use and reused.
Any failure (deadline, transport, breaker open, a wrong number of scores)
raises ``RankerUnavailable``: the ``ResilientRecommender`` then answers from the
light pipeline. Protos come from ``tensorflow-serving-api`` (its messages are
plain protobuf; building them needs no TensorFlow graph).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubbo_recsys.features.base import UserFeatures
from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.resilience import Downstream, DownstreamUnavailable
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import (
    RankConfigError,
    RankerUnavailable,
    hydrate_user,
    param,
    request_user_vector,
    rescored,
)

__all__ = ["TFServingClient", "TFServingConfig", "TFServingRanker", "predict_request"]


@dataclass(frozen=True, slots=True)
class TFServingConfig:
    target: str  # host:port of TF Serving's gRPC port (8500 by default there)
    model_name: str = "din"
    version: int = 0  # 0 = omit, serve the latest
    signature: str = "serving_default"
    timeout_seconds: float = 0.1
    max_concurrency: int = 64
    failure_threshold: int = 5
    recovery_seconds: float = 10.0
    keep: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TFServingConfig:
        target = params.get("target", params.get("addr", params.get("tfservingAddrs")))
        if isinstance(target, list) and target:
            target = target[0]
        if not isinstance(target, str) or ":" not in target:
            raise RankConfigError(f"tfserving ranker needs target 'host:port', got {target!r}")
        keep = params.get("keep")
        return cls(
            target=target,
            model_name=param(params, "model_name", params.get("modelName", "din"), str),
            version=param(params, "version", 0, int, 0, 2**62),
            signature=param(params, "signature", "serving_default", str),
            timeout_seconds=param(params, "timeout_seconds", 0.1, float, 0.001, 60.0),
            max_concurrency=param(params, "max_concurrency", 64, int, 1, 100_000),
            failure_threshold=param(params, "failure_threshold", 5, int, 1, 1_000),
            recovery_seconds=param(params, "recovery_seconds", 10.0, float, 0.01, 3_600.0),
            keep=None if keep is None else param(params, "keep", 0, int, 1, 100_000),
        )


def _example(features: Mapping[str, Sequence[str]]) -> bytes:
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example()
    for name, values in features.items():
        example.features.feature[name].bytes_list.value.extend(v.encode("utf-8") for v in values)
    return example.SerializeToString()


def _strings(values: Sequence[bytes]):
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(values))]),
        string_val=list(values),
    )


def _floats(tensor: Any) -> list[float]:
    """A DT_FLOAT ``TensorProto`` as floats: packed ``tensor_content`` (what ``tf.make_tensor_proto``
    writes) or the repeated ``float_val`` (what TF Serving usually writes)."""
    from tensorflow.core.framework import types_pb2

    if tensor.dtype != types_pb2.DT_FLOAT:
        raise RankerUnavailable(f"tfserving answered scores of dtype {tensor.dtype}, expected DT_FLOAT")
    if tensor.tensor_content:
        return np.frombuffer(tensor.tensor_content, dtype="<f4").tolist()
    return list(tensor.float_val)


def predict_request(
    config: TFServingConfig, user: UserFeatures | None, context: Mapping[str, str], item_ids: Sequence[str]
):
    """The ``PredictRequest`` for one user and its candidates (exposed for tests and the bench)."""
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = config.model_name
    request.model_spec.signature_name = config.signature
    if config.version:
        request.model_spec.version.value = config.version
    profile = [f"{k}={v}" for k, v in user.profile.items()] if user is not None else []
    last_n = list(user.last_n) if user is not None else []
    request.inputs["userExamples"].CopyFrom(_strings([_example({"last_n": last_n, "profile": profile})]))
    request.inputs["userContextExamples"].CopyFrom(
        _strings([_example({"context": [f"{k}={v}" for k, v in context.items()]})])
    )
    request.inputs["itemExamples"].CopyFrom(_strings([_example({"item_id": [i]}) for i in item_ids]))
    return request


class TFServingClient:
    """One reused ``grpc.aio`` channel to a PredictionService, behind a ``Downstream``."""

    def __init__(self, config: TFServingConfig) -> None:
        self.config = config
        self.downstream = Downstream(
            f"tfserving:{config.target}",
            max_concurrency=config.max_concurrency,
            failure_threshold=config.failure_threshold,
            recovery_seconds=config.recovery_seconds,
        )
        self._channel: Any = None
        self._stub: Any = None

    def _stub_now(self) -> Any:
        if self._stub is None:
            import grpc
            from tensorflow_serving.apis import prediction_service_pb2_grpc

            self._channel = grpc.aio.insecure_channel(self.config.target)
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        return self._stub

    async def scores(self, request: Any, count: int, budget: float) -> list[float]:
        import grpc

        timeout = min(self.config.timeout_seconds, budget)
        if timeout <= 0:
            raise RankerUnavailable("tfserving: no time left before the deadline")
        stub = self._stub_now()
        try:
            response = await self.downstream.call(lambda: stub.Predict(request, timeout=timeout), timeout)
        except DownstreamUnavailable as exc:
            raise RankerUnavailable(str(exc)) from exc
        except TimeoutError as exc:
            raise RankerUnavailable(
                f"tfserving {self.config.target}: no answer within {timeout * 1000:.0f} ms"
            ) from exc
        except grpc.aio.AioRpcError as exc:
            raise RankerUnavailable(f"tfserving {self.config.target}: {exc.code().name}: {exc.details()}") from exc
        values = _floats(response.outputs["scores"]) if "scores" in response.outputs else []
        if len(values) != count:
            raise RankerUnavailable(f"tfserving answered {len(values)} scores for {count} candidates")
        return values

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = self._stub = None


class TFServingRanker(Stage, kind=StageKind.RANK, names=("tfserving", "din_remote")):
    """params: ``target`` (host:port, required), ``model_name``, ``version``, ``timeout_seconds``,
    ``max_concurrency``, ``failure_threshold``, ``recovery_seconds``, ``keep``, ``fusion``.

    ``fusion`` (default false): rank by the artifacts' learned fusion (``rank.fusion``, as the
    in-process ``din`` stage does) with TF Serving's scores in DIN's place. Only for a served model
    that *is* the artifacts' DIN (``models/rank/din`` deployed to TF Serving): the weights were fitted
    on that model's scores, and another model's scores would be weighed wrongly. Off, the stage
    ranks by whatever score the served model returns."""

    def __init__(
        self, client: TFServingClient, resources: Any = None, fusion: Any = None, artifacts: Any = None
    ) -> None:
        self.client = client
        self.resources = resources
        self.fusion, self.artifacts = fusion, artifacts

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> TFServingRanker:
        client = TFServingClient(TFServingConfig.from_params(params))
        if not param(params, "fusion", False, bool):
            return cls(client, resources)
        from dubbo_recsys.rank.base import RankArtifacts
        from dubbo_recsys.rank.fusion import FusionModel

        artifacts = RankArtifacts.of(resources)
        fusion = FusionModel.load(artifacts)
        if fusion is None:
            raise RankConfigError(f"fusion: {artifacts.root} has no fitted fusion (models/rank/fusion.json)")
        return cls(client, resources, fusion, artifacts)

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        user = await hydrate_user(query, self.resources)
        context = dict(getattr(query.request, "context", None) or {})
        request = predict_request(self.client.config, user, context, [c.item_id for c in candidates])
        scores = await self.client.scores(request, len(candidates), query.remaining())
        if self.fusion is not None:
            vector = await request_user_vector(query, self.resources, self.artifacts)
            scores = self.fusion.score(
                self.artifacts, query.request.userId, user, candidates, np.asarray(scores, dtype=np.float64), vector
            )
        return rescored(candidates, scores, self.name, self.client.config.keep)

    async def close(self) -> None:
        await self.client.close()
