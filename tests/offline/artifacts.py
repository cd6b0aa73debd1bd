"""Readers the offline tests share: artifact files back into numpy and Python."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def ids(root: Path, kind: str) -> list[str]:
    return (root / "ids" / f"{kind}.txt").read_text(encoding="utf-8").splitlines()


def arrays(root: Path, relative: str) -> dict[str, np.ndarray]:
    with np.load(root / relative) as data:
        return {name: data[name] for name in data.files}


def jsonl(root: Path, relative: str) -> list[dict]:
    with (root / relative).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]
