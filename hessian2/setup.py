"""Build hook of hessian2-python: the optional compiled loops; metadata lives in pyproject.toml.

``hessian2._speedups`` (the decoder's hot loop) and ``hessian2._encspeedups`` (the
encoder's) are ``optional=True``: without a C compiler the build warns and the wheel
carries the pure-Python codec, which stays the reference. ``HESSIAN2_PURE_PYTHON_WHEEL=1``
leaves them out on purpose, which makes the portable ``py3-none-any`` fallback wheel.

This folder is the package itself (package-dir ``hessian2 = .``), so build_py is told
to leave this script out of the wheel.
"""

import os

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


class BuildPyWithoutSetupScript(build_py):
    def find_package_modules(self, package, package_dir):
        return [entry for entry in super().find_package_modules(package, package_dir) if entry[1] != "setup"]


pure = os.environ.get("HESSIAN2_PURE_PYTHON_WHEEL", "") not in ("", "0")
extensions = (
    []
    if pure
    else [
        Extension("hessian2._speedups", ["_speedups.c"], optional=True),
        Extension("hessian2._encspeedups", ["_encspeedups.c"], optional=True),
    ]
)
setup(ext_modules=extensions, cmdclass={"build_py": BuildPyWithoutSetupScript})
