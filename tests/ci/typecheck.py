"""mypy over the installed packages, with repository paths in its report (CONTRIBUTING.md, "Types").

    python tests/ci/typecheck.py [MYPY ARGS]      # what tests/ci/05-checks.sh and pre-commit run

The folders ``provider/``, ``recall/``, ... install as ``dubbo_recsys.provider``, ``dubbo_recsys.recall``
through setuptools' editable finder, an import hook that mypy cannot follow, and no folder is named as the
module it installs as. So this links each installed package, where the import system really finds it, into
``.cache/mypy/view/dubbo_recsys/`` (on mypy's path, see ``[tool.mypy]`` in pyproject.toml), runs mypy on the
view, on ``hessian2`` (found as itself at the repository root) and on ``tests``, and prints the view's paths
back as the repository's, so an error points at ``provider/body.py``, not at the link. The benchmarks are
scripts that import their neighbours through ``sys.path`` (two of them are named ``run_bench.py``), so they
are not part of this run.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VIEW = REPO / ".cache" / "mypy" / "view"
sys.path.insert(0, str(REPO))  # run as a script: the folder list comes from tests/layout.py
from tests.layout import FOLDERS  # noqa: E402  # after the path it needs


def installed_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name} is not installed: pip install -e ./hessian2 -e .")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def build_view() -> None:
    namespace = VIEW / "dubbo_recsys"
    namespace.mkdir(parents=True, exist_ok=True)
    for folder in FOLDERS:
        source, link = installed_folder(f"dubbo_recsys.{folder}"), namespace / folder
        if link.is_symlink() and link.resolve() == source:
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(source, target_is_directory=True)
    codec = installed_folder("hessian2")
    if codec != REPO / "hessian2":
        raise SystemExit(f"hessian2 is installed from {codec}, not from this checkout: pip install -e ./hessian2")


def main(argv: list[str]) -> int:
    build_view()
    packages = [arg for folder in FOLDERS for arg in ("-p", f"dubbo_recsys.{folder}")]
    packages += ["-p", "hessian2", "-p", "tests"]  # the tests too, with check_untyped_defs like any module
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *packages, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    prefix = str((VIEW / "dubbo_recsys").relative_to(REPO)) + "/"
    sys.stdout.write(done.stdout.replace(prefix, ""))
    sys.stderr.write(done.stderr.replace(prefix, ""))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
