"""A ``tensorflow.serving.PredictionService`` whose speed the test sets: the TF Serving ranker's peer.

It speaks the exact ``tensorflow_serving.apis`` protos over grpc.aio on 127.0.0.1 and answers
``Predict`` with one DT_FLOAT score per ``itemExamples`` entry (a fixed function of the item id,
so the ranking is real but needs no model), after sleeping ``delay`` seconds. ``calls`` counts
the requests it saw. tests/rank/prediction_server.py serves the real SavedModel (and holds the
server scaffolding both share); this one only needs the protos, so it runs whether or not the
build trained a ranker.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import Any

from tests.rank.prediction_server import PredictionServiceHost


def item_score(item_id: bytes) -> float:
    return (zlib.crc32(item_id) % 10_000) / 10_000.0


@dataclass
class SlowRanker(PredictionServiceHost):
    delay: float = 0.0
    calls: int = 0

    async def predict(self, request: Any, context: Any) -> Any:
        from tensorflow.core.example import example_pb2
        from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
        from tensorflow_serving.apis import predict_pb2

        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        scores = []
        for serialized in request.inputs["itemExamples"].string_val:
            example = example_pb2.Example.FromString(serialized)
            scores.append(item_score(example.features.feature["item_id"].bytes_list.value[0]))
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        response.outputs["scores"].CopyFrom(
            tensor_pb2.TensorProto(
                dtype=types_pb2.DT_FLOAT,
                float_val=scores,
                tensor_shape=tensor_shape_pb2.TensorShapeProto(
                    dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(scores))]
                ),
            )
        )
        return response
