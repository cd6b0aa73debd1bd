"""The wheels a user installs: their contents, and a clean virtualenv that serves from them.

tests/ci/60-wheels.sh builds dubbo-recsys and hessian2-python (compiled, and the
pure-Python fallback) from a fresh copy of the sources. Here each is installed into a
virtualenv that sees no system site-packages and no checkout (it runs from a temporary
directory), so a module missing from a wheel, or one that only imports because the
checkout is on sys.path, fails.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.layout import FOLDERS
from tests.support import require_env

pytestmark = pytest.mark.slow

LISTENING = re.compile(r"listening dubbo://127\.0\.0\.1:(\d+)")


def wheel(house: str, prefix: str) -> Path:
    (found,) = sorted(Path(require_env(house)).glob(f"{prefix}-*.whl"))
    return found


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def venv(root: Path, *wheels: Path) -> Path:
    """A virtualenv without system site-packages, with ``wheels`` installed (their deps from the index)."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *map(str, wheels)],
        check=True,
        timeout=300,
    )
    return python


def test_dubbo_recsys_wheel_holds_one_namespace_and_no_codec() -> None:
    listed = names(wheel("WHEELHOUSE", "dubbo_recsys"))
    packages = {name.split("/")[0] for name in listed if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"dubbo_recsys"}, packages
    assert "dubbo_recsys/__init__.py" not in listed  # an implicit namespace package
    assert {name.split("/")[1] for name in listed if name.startswith("dubbo_recsys/")} == set(FOLDERS)
    for data in (
        "dubbo_recsys/provider/rest/static/console.html",
        "dubbo_recsys/provider/rest/static/try.html",
        "dubbo_recsys/provider/rest/static/uPlot.iife.min.js",  # the console's charts: vendored, with its licence
        "dubbo_recsys/provider/rest/static/uPlot.LICENSE",
        "dubbo_recsys/interfaces/proto/recommend_v1.proto",
        "dubbo_recsys/interfaces/events.schema.json",
    ):
        assert data in listed
    metadata = next(n for n in listed if n.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(wheel("WHEELHOUSE", "dubbo_recsys")) as archive:
        assert "Requires-Dist: hessian2-python" in archive.read(metadata).decode()


def test_codec_wheels_compiled_and_pure() -> None:
    compiled = names(wheel("WHEELHOUSE", "hessian2_python"))
    pure_wheel = wheel("PURE_WHEELHOUSE", "hessian2_python")
    pure = names(pure_wheel)
    assert pure_wheel.name.endswith("-py3-none-any.whl")
    for listed in (compiled, pure):
        assert "hessian2/__init__.py" in listed and "hessian2/_decoder.py" in listed
        assert not [n for n in listed if n.endswith(("setup.py", "pyproject.toml", ".c"))], listed
    assert {n for n in compiled if n.endswith(".so")} >= {n for n in compiled if "_speedups" in n and n.endswith(".so")}
    assert [n for n in compiled if n.startswith("hessian2/_speedups") and n.endswith(".so")]
    assert not [n for n in pure if n.endswith(".so")]


def test_pure_python_codec_wheel_round_trips(tmp_path: Path) -> None:
    python = venv(tmp_path / "venv", wheel("PURE_WHEELHOUSE", "hessian2_python"))
    code = (
        "import dataclasses, hessian2, hessian2._decoder as d\n"
        "@dataclasses.dataclass\n"
        "class Item(hessian2.JavaObject, java_class='org.x.Item'):\n"
        "    itemId: str = ''\n"
        "    score: float = 0.0\n"
        "value = hessian2.loads(hessian2.dumps([Item('42', 0.5), hessian2.Long(7)]))\n"
        "print(d.SPEEDUPS, value[0] == Item('42', 0.5), int(value[1]))\n"
    )
    done = subprocess.run(
        [str(python), "-c", code], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "7"]


def test_clean_venv_serves_from_the_wheels(tmp_path: Path) -> None:
    python = venv(tmp_path / "venv", wheel("WHEELHOUSE", "hessian2_python"), wheel("WHEELHOUSE", "dubbo_recsys"))
    cli = tmp_path / "venv" / "bin" / "dubbo-recsys"
    imports = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('provider'), u.find_spec('recall'))"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imports.stdout.split() == ["None", "None"], imports.stderr
    api = subprocess.run(
        [str(cli), "java-api", "--out", str(tmp_path / "api")],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )  # java-api (provider/javaapi, its versions from the installed distribution) works from the wheel alone
    assert api.returncode == 0, api.stdout + api.stderr
    release = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('dubbo-recsys'))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    assert f"<version>{release}</version>" in (tmp_path / "api" / "pom.xml").read_text()
    assert (tmp_path / "api" / "src/main/java/org/dubborecsys/api/RecommendService.java").is_file()
    serve = subprocess.Popen(
        [str(cli), "serve", "--host", "127.0.0.1", "--port", "0", "--loop", "asyncio"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert serve.stdout is not None
        port, seen = None, []
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = serve.stdout.readline()
            if not line:
                break
            seen.append(line)
            if match := LISTENING.search(line):
                port = int(match.group(1))
        assert port is not None, "".join(seen)
        request = json.dumps({"class": "org.dubborecsys.api.RecommendRequest", "userId": "u1", "count": 3})
        answer = subprocess.run(
            [str(cli), "call", "--port", str(port), "--version", "1.0.0",
             "org.dubborecsys.api.RecommendService", "recommend", request],
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        assert answer.returncode == 0, answer.stdout + answer.stderr
        items = json.loads(answer.stdout)["items"]
        assert len(items) == 3 and all(item["itemId"] for item in items)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        finally:
            if serve.poll() is None:
                serve.kill()
            if serve.stdout is not None:
                serve.stdout.close()
    assert serve.returncode == 0
