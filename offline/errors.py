"""Errors of the ``offline`` package.

One base error, so the CLI can turn any failure of a build into a clear message
and exit code instead of a traceback::

    OfflineError
    ├── BuildConfigError     invalid build parameters (caught before any work starts)
    ├── SourceDataError      the interaction source is missing or malformed
    └── ArtifactError        an artifact directory is missing, incomplete or corrupt
"""

from __future__ import annotations

__all__ = ["ArtifactError", "BuildConfigError", "OfflineError", "SourceDataError"]


class OfflineError(Exception):
    """Base error of the ``offline`` package."""


class BuildConfigError(OfflineError, ValueError):
    """A build parameter is out of range or inconsistent with another one."""


class SourceDataError(OfflineError):
    """The source data (ML-100K files, generator output) cannot be read or is malformed."""


class ArtifactError(OfflineError):
    """An artifact directory does not match ``offline/ARTIFACTS.md`` (missing file, bad md5)."""
