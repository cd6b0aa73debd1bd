"""The release this installation is, as ``dubbo-recsys --version`` and the Nacos records say it.

One number names a release of three things built together: this Python package (setup.cfg), the
Hessian2 distribution (``hessian2/pyproject.toml``) and the Java API module
(``java-client-sample``'s Maven reactor). ``tests/test_version.py`` keeps them equal;
CONTRIBUTING.md ("Versions and releases") says how a release is cut. The number is read from the
installed distribution's metadata, so there is no second copy of it in the code.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["DISTRIBUTION", "METADATA_KEY", "package_version"]

DISTRIBUTION = "dubbo-recsys"
#: The key of the provider's Nacos instance metadata (and URL parameter) that carries the release.
METADATA_KEY = "dubbo-recsys.version"


def package_version() -> str:
    """The installed release, e.g. ``"0.2.0"``; ``"unknown"`` when the package is not installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
