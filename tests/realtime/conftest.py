"""Fixtures of the realtime tests: a Redis prefix of our own (shared with tests/features)."""

from __future__ import annotations

from tests.features.conftest import redis_space

__all__ = ["redis_space"]
