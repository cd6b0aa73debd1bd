# Recall (sourced by tests/run_all.sh): its runtime extra (numpy, faiss-cpu).
# The recall tests read ARTIFACTS_ML100K, exported by 40-artifacts.sh; this step
# only makes sure recall's own dependencies are there. Idempotent; a few seconds.
python -m pip install --quiet -e ".[recall]"
