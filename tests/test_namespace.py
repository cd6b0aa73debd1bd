"""Everything installed imports as ``dubbo_recsys.*`` (the codec as ``hessian2``).

The folders stay at the repository's top level, where a bare ``import provider`` still
resolves while the tests run from a checkout; installed, that import fails (setup.py maps
the folders under ``dubbo_recsys``). So no module, test or benchmark may use a bare name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.layout import FOLDERS

REPO = Path(__file__).resolve().parents[1]
SCANNED = (*FOLDERS, "hessian2", "tests", "bench")


def bare_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".")[0] in FOLDERS]
    return found


def test_no_module_imports_a_folder_by_its_bare_name() -> None:
    offenders = []
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            offenders += [f"{path.relative_to(REPO)}:{line}: {name}" for line, name in bare_imports(tree)]
    assert not offenders, "import these as dubbo_recsys.<folder>:\n" + "\n".join(offenders)


def test_the_scanner_sees_bare_imports() -> None:
    tree = ast.parse("import recall\nfrom provider.cli import main\nfrom dubbo_recsys.rank import x\nfrom . import y\n")
    assert bare_imports(tree) == [(1, "recall"), (2, "provider.cli")]


def test_installed_package_resolves_outside_the_checkout(tmp_path: Path) -> None:
    """From a directory that is not the checkout, the namespace comes from the installation alone."""
    code = (
        "import dubbo_recsys.provider, dubbo_recsys.recall, hessian2, importlib.util;"
        "print(importlib.util.find_spec('provider') is None, importlib.util.find_spec('recall') is None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
