# Fuzz targets (sourced by tests/run_all.sh): atheris, then every target of tests/fuzz/run.py for its
# share of time (the decoder: 45 s) on a scratch copy of its committed corpus. A finding fails the run;
# it is left in $CI_WORK/fuzz/<target>/ with the command to replay it (see tests/fuzz/README.md).
python -m pip install --quiet "atheris>=2.3"  # setup.cfg's 'fuzz' extra (no reinstall of the project: ~20 s saved)
_fuzz_t0=$SECONDS
python tests/fuzz/run.py 2>&1 | { grep -v "^INFO: Instrumenting" || true; }  # pipefail: run.py's status
echo "fuzz targets ran for $((SECONDS - _fuzz_t0)) s"
unset _fuzz_t0
