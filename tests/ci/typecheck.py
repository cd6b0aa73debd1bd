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

Strict packages: ``STRICT`` names them (issue 16: the codec, the provider, the pipeline, the registry). mypy
takes strictness from pyproject.toml, where an edit of the module list or of one flag would quietly make a
package lenient again; so before mypy runs, ``strict_config_gaps`` checks that every strict package and its
submodules get every flag of ``STRICT_FLAGS`` and that no override switches one off or ignores their errors.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VIEW = REPO / ".cache" / "mypy" / "view"
sys.path.insert(0, str(REPO))  # run as a script: the folder list comes from tests/layout.py
from tests.layout import FOLDERS  # noqa: E402  # after the path it needs

STRICT = ("hessian2", "dubbo_recsys.provider", "dubbo_recsys.pipeline", "dubbo_recsys.registry")
# mypy's --strict, flag by flag: the per-module ones (set in the strict override), then the global ones
STRICT_FLAGS = {
    "disallow_any_generics": True,
    "disallow_subclassing_any": True,
    "disallow_untyped_calls": True,
    "disallow_untyped_defs": True,
    "disallow_incomplete_defs": True,
    "disallow_untyped_decorators": True,
    "warn_return_any": True,
    "implicit_reexport": False,
}
GLOBAL_FLAGS = {
    "check_untyped_defs": True,
    "warn_redundant_casts": True,
    "warn_unused_ignores": True,
    "strict_equality": True,
    "extra_checks": True,
}


def strict_config_gaps(mypy: dict[str, Any]) -> list[str]:
    """What in ``[tool.mypy]`` would leave a ``STRICT`` package short of strict; empty when nothing."""
    gaps = [f"[tool.mypy] {flag} must be {value}" for flag, value in GLOBAL_FLAGS.items() if mypy.get(flag) != value]
    overrides = [(o, [o["module"]] if isinstance(o["module"], str) else o["module"]) for o in mypy.get("overrides", [])]
    for package in STRICT:
        for pattern in (package, f"{package}.*"):  # the package and every module in it get each flag
            for flag, value in STRICT_FLAGS.items():
                if not any(pattern in modules and o.get(flag) == value for o, modules in overrides):
                    gaps.append(f"{pattern}: no override sets {flag} = {value}")
        inside = [o for o, modules in overrides if any(m == package or m.startswith(f"{package}.") for m in modules)]
        for o in inside:  # and no override of the package or one of its modules takes a flag back
            gaps += [
                f"{o['module']}: sets {flag} = {o[flag]}"
                for flag, value in STRICT_FLAGS.items()
                if o.get(flag, value) != value
            ]
            gaps += [
                f"{o['module']}: sets {flag}" for flag in ("ignore_errors", "ignore_missing_imports") if o.get(flag)
            ]
    return gaps


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
    gaps = strict_config_gaps(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"])
    if gaps:
        sys.stderr.write("pyproject.toml no longer checks the strict packages strictly:\n  " + "\n  ".join(gaps) + "\n")
        return 1
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
