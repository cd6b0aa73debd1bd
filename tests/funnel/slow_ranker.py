"""A ``tensorflow.serving.PredictionService`` whose speed the test sets: the TF Serving ranker's peer.

It speaks the exact ``tensorflow_serving.apis`` protos over grpc.aio on 127.0.0.1 and answers
``Predict`` with one DT_FLOAT score per ``itemExamples`` entry (a fixed function of the item id,
so the ranking is real but needs no model), after sleeping ``delay`` seconds. ``calls`` counts
the requests it saw. tests/rank/prediction_server.py serves the real SavedModel; this one only
needs the protos, so it runs whether or not the build trained a ranker.
"""
from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import Any


def item_score(item_id: bytes) -> float:
    return (zlib.crc32(item_id) % 10_000) / 10_000.0


@dataclass
class SlowRanker:
    delay: float = 0.0
    calls: int = 0
    port: int = 0
    _server: Any = None

    async def start(self) -> "SlowRanker":
        import grpc
        from tensorflow.core.example import example_pb2
        from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

        owner = self

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            async def Predict(self, request, context):  # noqa: N802 - the gRPC method name
                owner.calls += 1
                if owner.delay:
                    await asyncio.sleep(owner.delay)
                scores = []
                for serialized in request.inputs["itemExamples"].string_val:
                    example = example_pb2.Example.FromString(serialized)
                    scores.append(item_score(example.features.feature["item_id"].bytes_list.value[0]))
                response = predict_pb2.PredictResponse()
                response.model_spec.CopyFrom(request.model_spec)
                response.outputs["scores"].CopyFrom(tensor_pb2.TensorProto(
                    dtype=types_pb2.DT_FLOAT, float_val=scores,
                    tensor_shape=tensor_shape_pb2.TensorShapeProto(
                        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(scores))])))
                return response

        self._server = grpc.aio.server()
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=0)
            self._server = None
