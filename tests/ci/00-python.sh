# Python package and test dependencies (sourced by tests/run_all.sh).
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test,speed]"
