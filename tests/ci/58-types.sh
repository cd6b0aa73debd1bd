# mypy over the installed packages and the tests (sourced by tests/run_all.sh), once every earlier
# step has installed its extras: mypy must see the real libraries (numpy, faiss, redis, grpc,
# fastapi, opentelemetry, ...) the code is checked against. A type error stops the run before
# pytest. Configuration: pyproject.toml [tool.mypy]; why it runs through a script: CONTRIBUTING.md,
# "Types". Its cache lives in .cache/mypy, so a rerun on the same checkout takes seconds.
_types_started=$SECONDS
python tests/ci/typecheck.py
echo "mypy passed in $((SECONDS - _types_started)) s"
