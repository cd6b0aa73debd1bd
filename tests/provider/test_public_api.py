"""The facade: every name in ``provider.__all__`` resolves; importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

from dubbo_recsys import provider


def test_all_names_resolve():
    for name in provider.__all__:
        assert getattr(provider, name) is not None, name


def test_import_is_cheap():
    code = (
        "import sys, dubbo_recsys.provider, dubbo_recsys.provider.cli; dubbo_recsys.provider.cli.build_parser(); "
        "print(sorted(m for m in ('asyncio', 'hessian2', 'grpc') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
