"""Every silenced finding says which check it silences and why, on the same line (CONTRIBUTING.md, "Checks").

``# noqa: E402 - after the sys.path set-up above`` and ``# type: ignore[method-assign]  # installs the compiled
writer`` pass; a bare ``# noqa``, ``# type: ignore`` or one without a reason fails, so the tools' findings are
fixed rather than switched off in silence.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from tests.layout import FOLDERS

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("hessian2", *FOLDERS)
SCANNED = (*PACKAGES, "tests", "bench", "setup.py")
GENERATED = re.compile(r"_pb2(_grpc)?\.pyi?$")  # grpc_tools output, regenerated rather than edited

NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)", re.IGNORECASE)
NOQA_OK = re.compile(r":\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*\s+\S")  # codes, then a reason in any form
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<rest>.*)")
TYPE_IGNORE_OK = re.compile(r"\[[a-z-]+(\s*,\s*[a-z-]+)*\]\s+#\s*\S")


def unexplained(source: str) -> list[tuple[int, str]]:
    """(line, comment) of each noqa / type: ignore comment that lacks its codes or its reason."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        for pattern, ok in ((NOQA, NOQA_OK), (TYPE_IGNORE, TYPE_IGNORE_OK)):
            match = pattern.search(token.string)
            if match and not ok.match(match.group("rest")):
                found.append((token.start[0], token.string))
    return found


def python_files() -> list[Path]:
    paths: list[Path] = []
    for name in SCANNED:
        top = REPO / name
        paths += [top] if top.is_file() else sorted(top.rglob("*.py"))
    return [p for p in paths if not GENERATED.search(p.name) and "build" not in p.relative_to(REPO).parts[:-1]]


def test_every_noqa_and_type_ignore_names_its_code_and_reason() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line}: {comment}"
        for path in python_files()
        for line, comment in unexplained(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "say which check and why, e.g. '# noqa: E402 - after sys.path':\n" + "\n".join(offenders)


def test_the_check_tells_a_reason_from_none() -> None:
    source = (
        "import a  # noqa: F401 - re-exported\n"
        "import b  # noqa\n"
        "import c  # noqa: F401\n"
        "x = f()  # type: ignore[arg-type]  # wrong on purpose\n"
        "y = f()  # type: ignore\n"
        "z = f()  # type: ignore[arg-type]\n"
        "s = '# noqa inside a string is not a comment'\n"
    )
    assert [line for line, _ in unexplained(source)] == [2, 3, 5, 6]
