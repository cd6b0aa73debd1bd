"""Filling in a skeleton ``import-java`` wrote, as its user would: method bodies replaced, the rest kept.

``fill(service_py, bodies, tail)`` replaces the body of each method named in ``bodies``
(Python name -> source, indented by us) and appends ``tail`` (module-level state the bodies
use). Signatures, decorators and the class keywords stay exactly as generated, so what is
served is the skeleton's contract.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path


def fill(service_py: Path, bodies: dict[str, str], tail: str = "") -> None:
    source = service_py.read_text()
    lines = source.splitlines()
    found: dict[str, tuple[int, int]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in bodies:
                    found[item.name] = (item.body[0].lineno - 1, item.body[-1].end_lineno or item.body[-1].lineno)
    missing = set(bodies) - set(found)
    assert not missing, f"the skeleton has no methods {missing}"
    for name, (start, end) in sorted(found.items(), key=lambda pair: -pair[1][0]):
        lines[start:end] = textwrap.indent(textwrap.dedent(bodies[name]).strip("\n"), " " * 8).splitlines()
    service_py.write_text("\n".join(lines) + "\n\n" + textwrap.dedent(tail).strip() + "\n")
