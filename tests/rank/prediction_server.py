"""A TF Serving stand-in for the tests and the bench: ``tensorflow.serving.PredictionService`` on grpc.aio.

TF Serving itself cannot be installed here, so this serves the exported
SavedModel with TensorFlow behind the exact ``tensorflow_serving.apis`` protos
and service name: what our client sends and reads is what TF Serving would
see. Only ``Predict`` is implemented (the others answer UNIMPLEMENTED, as the
generated base class does). It checks the model name, resolves the signature
(empty = ``serving_default``), converts each input ``TensorProto`` with
``tf.make_ndarray``, runs the signature in a worker thread and returns every
output. ``delay`` makes it slow on purpose; ``requests`` records what came in.
Bound to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PredictionServiceHost:
    """The grpc.aio server around one ``Predict`` method: the scaffolding every stand-in shares.

    A subclass implements ``async predict(request, context)`` and may ``prepare()`` what it needs
    before the server starts (say, loading a model); this class binds 127.0.0.1 on a free port.
    """

    port: int = 0
    _server: Any = None

    def prepare(self) -> None:
        """Called once before the server starts."""

    async def predict(self, request: Any, context: Any) -> Any:
        raise NotImplementedError

    async def start(self):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.prepare()
        owner = self

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            async def Predict(self, request, context):
                return await owner.predict(request, context)

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
            await self._server.stop(grace=None)
            self._server = None


@dataclass
class PredictionServer(PredictionServiceHost):
    model_dir: Path
    model_name: str = "din"
    delay: float = 0.0
    requests: list[Any] = field(default_factory=list)
    _model: Any = None

    def prepare(self) -> None:
        import tensorflow as tf

        self._model = tf.saved_model.load(str(self.model_dir))

    async def predict(self, request: Any, context: Any) -> Any:
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.model_spec.name != self.model_name:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found: {request.model_spec.name}")
        name = request.model_spec.signature_name or "serving_default"
        if name not in self._model.signatures:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"signature {name} not found")
        signature = self._model.signatures[name]
        try:
            inputs = {key: tf.constant(tf.make_ndarray(value)) for key, value in request.inputs.items()}
            outputs = await asyncio.to_thread(lambda: signature(**inputs))
        except (TypeError, ValueError, tf.errors.OpError) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)[:500])
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        response.model_spec.signature_name = name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response


def main() -> None:
    """``python -m tests.rank.prediction_server MODEL_DIR [NAME]``: serve until killed; prints the port."""
    import signal
    import sys

    async def serve() -> None:
        name = sys.argv[2] if len(sys.argv) > 2 else PredictionServer.model_name
        server = await PredictionServer(Path(sys.argv[1]), name).start()
        print(server.port, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
