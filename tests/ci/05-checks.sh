# Static checks, before any server starts (sourced by tests/run_all.sh): a lint, format, type or
# layering error stops the run here. The same checks run locally through pre-commit
# (.pre-commit-config.yaml); CONTRIBUTING.md says how. The tools' versions are pinned once,
# in setup.cfg's `lint` extra.
python -m pip install --quiet -e ".[lint]"
_checks_started=$SECONDS
ruff check .
ruff format --check .
python -m pytest -p no:cacheprovider -q tests/test_layers.py
python tests/ci/typecheck.py   # mypy over the installed packages (config: pyproject.toml [tool.mypy])
echo "static checks passed in $((SECONDS - _checks_started)) s"
