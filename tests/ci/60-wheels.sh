# Wheels (sourced by tests/run_all.sh): build what a user installs, for tests/packaging.
#
# hessian2-python twice (the compiled wheel and the portable py3-none-any fallback that
# HESSIAN2_PURE_PYTHON_WHEEL=1 makes) and dubbo-recsys, each from a fresh copy of the
# sources so no editable-build leftovers (in-place .so files, egg-info) leak into a wheel.
# tests/packaging installs them into clean virtualenvs (no system site-packages) and
# serves from there. Exports WHEELHOUSE (dubbo-recsys and the compiled codec) and
# PURE_WHEELHOUSE (the fallback codec). About 20 s.
_wheel_src="$(mktemp -d "$CI_WORK/wheel-src.XXXXXX")"
git -C "$REPO_ROOT" ls-files -z --cached --others --exclude-standard \
  | (cd "$REPO_ROOT" && xargs -0 cp --parents -t "$_wheel_src" 2>/dev/null || true)
export WHEELHOUSE="$CI_WORK/wheelhouse" PURE_WHEELHOUSE="$CI_WORK/wheelhouse-pure"
rm -rf "$WHEELHOUSE" "$PURE_WHEELHOUSE"
python -m pip wheel --quiet --no-deps -w "$WHEELHOUSE" "$_wheel_src/hessian2" "$_wheel_src"
HESSIAN2_PURE_PYTHON_WHEEL=1 python -m pip wheel --quiet --no-deps -w "$PURE_WHEELHOUSE" "$_wheel_src/hessian2"
rm -rf "$_wheel_src"
echo "wheels: $(cd "$WHEELHOUSE" && ls) | $(cd "$PURE_WHEELHOUSE" && ls)"
