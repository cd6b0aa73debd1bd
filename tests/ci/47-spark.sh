# Spark engine (sourced by tests/run_all.sh): pip's pyspark on the machine's Java 17, local mode.
#
# Builds ML-100K twice with the same reduced training (two-tower 1 epoch, ranker 1 epoch with 16 shared
# negatives, no fusion validation build): once with the embedded engine, once with --engine spark. tests/offline/test_spark_parity.py
# then compares every table, the training example files (kept with --work-dir) and the served NDCG@10 / HR@50.
# Reduced training keeps this step near 3.5 minutes at load 4-8 (12 at load 10-16 with 3 + 1 epochs and 64
# negatives, bench/offline/RESULTS.md); both engines' example files are
# checked equal, and training reads them with the same code, so the full-length models of 40-artifacts.sh
# would add time, not coverage. Exports SPARK_MASTER for the in-process Spark tests.
python -m pip install --quiet -e ".[spark]"
java -version 2>&1 | head -1

export SPARK_MASTER="local[2]"
export ARTIFACTS_ML100K_PARITY="$CI_WORK/artifacts/ml100k-parity"
export ARTIFACTS_ML100K_SPARK="$CI_WORK/artifacts/ml100k-spark"
_parity_args=(--source ml-100k --epochs 1 --rank-epochs 1 --rank-negatives 16 --rank-eval-users 200 --no-fusion --skip-existing --no-progress)
python -m dubbo_recsys.offline.build_command "${_parity_args[@]}" \
  --work-dir "$CI_WORK/work/ml100k-parity" --out "$ARTIFACTS_ML100K_PARITY"
python -m dubbo_recsys.offline.build_command "${_parity_args[@]}" --engine spark --master "$SPARK_MASTER" \
  --shuffle-partitions 2 --work-dir "$CI_WORK/work/ml100k-spark" --out "$ARTIFACTS_ML100K_SPARK"
