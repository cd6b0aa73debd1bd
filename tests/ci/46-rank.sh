# Ranking (sourced by tests/run_all.sh): the TF Serving protos for the remote ranker's client and
# the in-test PredictionService (tests/rank/prediction_server.py).
# tensorflow-serving-api's wheel only carries generated protobuf/gRPC code, but it depends on the
# full `tensorflow` package; TensorFlow is already here as tensorflow-cpu (the `data` extra,
# 40-artifacts.sh), so it is installed without dependencies. The rank model itself is trained
# inside `dubbo-recsys build` by 40-artifacts.sh (offline/rank_steps.py, ~1-2 min per build).
# Idempotent; a few seconds.
python -m pip install --quiet -e ".[rank]"
python -c "import tensorflow_serving.apis.prediction_service_pb2_grpc" 2>/dev/null \
  || python -m pip install --quiet --no-deps "tensorflow-serving-api==2.21.0"
