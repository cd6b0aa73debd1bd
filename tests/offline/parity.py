"""Comparisons of two artifact directories, the contract between the embedded and the Spark engine.

Integer tables must be equal; float tables within ``1e-6`` relative (``|a - b| <= 1e-6 * max(1, |a|)``):
both engines compute in float64 and store float32, in different summation orders. Neighbour lists
must be equal up to ties: positions whose scores tie (within the tolerance) may hold their items in
any order, and a tie group cut by the K-th column may hold different members of the group.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-6


def close(a: np.ndarray, b: np.ndarray, tolerance: float = TOLERANCE) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tolerance * np.maximum(1.0, np.abs(a))))


def neighbor_differences(
    a_index: np.ndarray, a_score: np.ndarray, b_index: np.ndarray, b_score: np.ndarray, tolerance: float = TOLERANCE
) -> list[str]:
    """Rows where the two top-K tables differ beyond ties (empty when they match)."""
    problems: list[str] = []
    if a_index.shape != b_index.shape:
        return [f"shapes {a_index.shape} and {b_index.shape}"]
    if not close(a_score, b_score, tolerance):
        worst = int(np.argmax(np.abs(a_score - b_score).max(axis=1)))
        return [f"row {worst}: scores {a_score[worst][:5]} vs {b_score[worst][:5]}"]
    k = a_index.shape[1]
    for row in np.flatnonzero((a_index != b_index).any(axis=1)).tolist():
        scores = a_score[row]
        start = 0
        while start < k:
            stop = start + 1
            while stop < k and abs(scores[stop] - scores[start]) <= tolerance * max(1.0, abs(scores[start])):
                stop += 1
            left, right = set(a_index[row, start:stop].tolist()), set(b_index[row, start:stop].tolist())
            if stop < k and left != right:  # a whole tie group must hold the same items
                problems.append(f"row {row}, positions {start}-{stop - 1}: {sorted(left)} vs {sorted(right)}")
                break
            start = stop
    return problems
