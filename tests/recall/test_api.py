"""The public face of ``recall``: every exported name resolves, and importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dubbo_recsys import recall


def test_every_exported_name_resolves() -> None:
    assert recall.__all__ == sorted(recall.__all__)
    for name in recall.__all__:
        assert getattr(recall, name).__name__ == name
    with pytest.raises(AttributeError):
        recall.NoSuchThing  # noqa: B018 - the attribute access is what must fail


def test_importing_recall_and_its_cli_entry_loads_no_numpy() -> None:
    code = (
        "import sys, dubbo_recsys.recall, dubbo_recsys.recall.eval_command; "
        "print(sorted(m for m in ('numpy', 'faiss', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
