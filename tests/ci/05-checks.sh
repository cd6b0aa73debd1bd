# Static checks, before any server starts (sourced by tests/run_all.sh): a lint, format or
# layering error, or an ignore without its reason, stops the run here. The type check needs every
# dependency the later steps install, so it is a step of its own after them (58-types.sh).
# The same checks run locally through pre-commit (.pre-commit-config.yaml); CONTRIBUTING.md says
# how. The tools' versions are pinned once, in setup.cfg's `lint` extra.
python -m pip install --quiet -e ".[lint]"
_checks_started=$SECONDS
ruff check .
ruff format --check .
python -m pytest -p no:cacheprovider -q tests/test_layers.py tests/test_ignores.py
echo "static checks passed in $((SECONDS - _checks_started)) s"
