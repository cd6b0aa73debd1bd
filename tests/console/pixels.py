"""Reading a screenshot: where a chart's series colour is, inside the chart's plot area.

Rectangles are the page's CSS pixels as ``plotRect()`` gives them (``charts.js``); the
browser renders at device scale 1, so they are the screenshot's pixels too. A colour
matches within ``tolerance`` per channel: lines are anti-aliased, their cores keep
the colour the chart asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive)


def load(path: Path) -> Image.Image:
    return Image.open(path).convert("RGB")


def box(rect: Mapping[str, float]) -> Box:
    return (int(rect["left"]) + 1, int(rect["top"]) + 1, int(rect["right"]) - 1, int(rect["bottom"]) - 1)


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _mask(image: Image.Image, area: Box, colour: str, tolerance: int) -> np.ndarray:
    """Rows x columns of ``area``: True where the pixel is ``colour``."""
    left, top, right, bottom = area
    pixels = np.asarray(image, dtype=np.int16)[top:bottom, left:right, :3]
    return np.all(np.abs(pixels - np.array(rgb(colour), dtype=np.int16)) <= tolerance, axis=2)


def count(image: Image.Image, area: Box, colour: str, tolerance: int = 24) -> int:
    """Pixels of ``colour`` inside ``area``."""
    return int(_mask(image, area, colour, tolerance).sum())


def highest(image: Image.Image, area: Box, x: int, colour: str, tolerance: int = 24, spread: int = 2) -> int | None:
    """The smallest y (the highest point) of ``colour`` in columns ``x - spread .. x + spread`` of ``area``."""
    left, top, right, _bottom = area
    mask = _mask(image, area, colour, tolerance)[
        :, max(0, x - spread - left) : max(0, min(right, x + spread + 1) - left)
    ]
    rows = np.flatnonzero(mask.any(axis=1))
    return int(top + rows[0]) if len(rows) else None


def bands(image: Image.Image, area: Box, colour: str, tolerance: int = 24) -> list[tuple[int, int, int]]:
    """Horizontal bars of ``colour``: ``(top, bottom, length)`` per run of rows holding it, top to bottom."""
    top = area[1]
    widths = _mask(image, area, colour, tolerance).sum(axis=1)
    found: list[tuple[int, int, int]] = []
    start = None
    for y, width in enumerate([*widths.tolist(), 0]):
        if width and start is None:
            start = y
        elif not width and start is not None:
            found.append((top + start, top + y, int(widths[start:y].max())))
            start = None
    return found
