"""The folders that install as ``dubbo_recsys.<folder>``, read from setup.py, the one place they are listed.

Tests and tools that walk the packages (namespace, layering, types, wheels, the Docker context) take the
list from here, so a new folder added to setup.py is covered everywhere at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _setup_folders() -> tuple[str, ...]:
    tree = ast.parse((REPO / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "FOLDERS" for target in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("setup.py no longer assigns FOLDERS")


FOLDERS: tuple[str, ...] = _setup_folders()
