#!/usr/bin/env bash
# The README's test command: install what the tests need, start the real peers
# (Redis, Nacos, the Java builds), then run the whole suite.
#
# Each tests/ci/NN-*.sh step is *sourced* in order, so the environment it exports
# (REDIS_URL, NACOS_ADDR, ARTIFACTS_DIR, ...) reaches pytest. Steps start servers
# on 127.0.0.1 only and register their cleanup with `on_exit`.
set -euo pipefail
cd "$(dirname "$0")/.."
export REPO_ROOT="$PWD"
export CI_WORK="${CI_WORK:-$REPO_ROOT/.cache/ci}"
mkdir -p "$CI_WORK"

_cleanups=()
on_exit() { _cleanups+=("$1"); }
_run_cleanups() {
  local i
  for ((i=${#_cleanups[@]}-1; i>=0; i--)); do eval "${_cleanups[$i]}" || true; done
}
trap _run_cleanups EXIT

step() { echo; echo "=== $* ($(date +%H:%M:%S))"; }

for script in tests/ci/[0-9][0-9]-*.sh; do
  step "$script"
  # shellcheck disable=SC1090
  source "$script"
done

step "pytest"
python -m pytest -p no:cacheprovider -ra "$@"
