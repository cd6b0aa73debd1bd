"""``serve --tf-threads``: how many threads TensorFlow gets per worker, set before any worker imports it."""

from __future__ import annotations

import os

import pytest

import dubbo_recsys.provider.serve as serve
from dubbo_recsys.provider.cli import build_parser

VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def _run(monkeypatch: pytest.MonkeyPatch, *flags: str) -> tuple[int, dict[str, str | None]]:
    seen: dict[str, str | None] = {}

    def worker(*_args: object, **_kw: object) -> int:  # stands in for the worker: what would TensorFlow read?
        seen.update({name: os.environ.get(name) for name in VARIABLES})
        return 0

    monkeypatch.setattr(serve, "_run_worker", worker)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    args = build_parser().parse_args(["serve", "--port", "0", *flags])
    return serve.run(args), seen


def test_one_thread_per_worker_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    code, seen = _run(monkeypatch)
    assert code == 0 and seen == dict.fromkeys(VARIABLES, "1")


def test_an_explicit_count_and_zero_for_tensorflows_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(monkeypatch, "--tf-threads", "3") == (0, dict.fromkeys(VARIABLES, "3"))
    assert _run(monkeypatch, "--tf-threads", "0") == (0, dict.fromkeys(VARIABLES))


def test_a_bad_count_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, seen = _run(monkeypatch, "--tf-threads", "-1")
    assert code == 2 and seen == {} and "--tf-threads" in capsys.readouterr().err
