# Python package and test dependencies (sourced by tests/run_all.sh).
# hessian2/ is its own distribution (hessian2-python), which dubbo-recsys requires:
# both are installed editable in one pip call so the requirement resolves locally.
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ./hessian2 -e ".[test,speed]"
