"""A fleet of two providers registered in the real Nacos follows one ``publish``, refuses a broken build, rolls back.

How fast each provider follows is printed, and judged against the 10 s target on ML-100K by
bench/rollout (timing on a shared machine is not asserted here); that every provider follows, refuses
and rolls back, as Nacos shows it in their instance metadata, is asserted. The versions are copies of
the small synthetic build (no TensorFlow: the providers start in seconds); the gate's checks on the
ML-100K models are tests/rollout/test_gate.py's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.funnel.peers import cli_entry
from tests.rollout.fleet import fleet
from tests.rollout.harness import dubbo_recsys
from tests.rollout.versions import break_neighbours, derive, reorder_hot
from tests.support import require_env

pytestmark = pytest.mark.nacos


def test_two_providers_follow_a_publish_refuse_a_broken_build_and_roll_back(small_build: Path, tmp_path: Path) -> None:
    nacos = require_env("NACOS_ADDR")
    root = tmp_path / "root"
    a = derive(small_build, root)
    b = derive(small_build, root, reorder_hot)
    with fleet(nacos, root, tmp_path, providers=2, pin=a) as providers:
        providers.wait(a, 60)  # they came up on the pinned version, not the newest (b)
        followed = providers.follow("publish", "--version", b, version=b)
        print(f"publish {b}: each provider serves it after {sorted(followed.values())} s")

        watched = subprocess.run(
            [*cli_entry(), "versions", *providers.pin_flags(), "--wait", "30"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert watched.returncode == 0, watched.stdout + watched.stderr
        assert f"every provider (2) serves {b}" in watched.stdout and f"pin: {b}" in watched.stdout
        assert watched.stdout.count(f"serving {b}") == 2

        broken = derive(small_build, root, break_neighbours)
        dubbo_recsys("publish", *providers.pin_flags(), "--version", broken)
        refused = providers.wait_for(lambda m: m.get("artifacts.refused", "").endswith(broken), 60)
        for metadata in refused.values():
            assert metadata["artifacts.version"] == b and metadata["artifacts.refusal"].startswith("finite: ")

        back = providers.follow("rollback", version=b)  # the pin before the broken one
        assert set(back) == {p.port for p in providers.providers}
        again = providers.follow("rollback", version=a)
        print(f"rollback to {a}: after {sorted(again.values())} s")
    out = dubbo_recsys("versions", "--artifact-root", str(root))
    assert out.count("\n  2026") == 3 and "pin: none" in out  # three versions; the local pin was never written
