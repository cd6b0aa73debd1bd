"""Maps the repository's top-level folders into one import namespace; all metadata lives in setup.cfg.

The folders stay where the design put them (``provider/``, ``recall/``, ...), and each is
installed as ``dubbo_recsys.<folder>``: ``dubbo_recsys`` itself is an implicit namespace
package, so nothing named ``provider`` or ``recall`` lands in site-packages. The Hessian2
codec is not here: it is its own distribution, hessian2-python (``hessian2/``).
"""

from setuptools import find_packages, setup

FOLDERS = ("provider", "interfaces", "registry", "recall", "rank", "features", "offline", "pipeline", "realtime")

setup(
    package_dir={f"dubbo_recsys.{folder}": folder for folder in FOLDERS},
    packages=[
        f"dubbo_recsys.{folder}{sub}"
        for folder in FOLDERS
        for sub in ["", *(f".{name}" for name in find_packages(folder))]
    ],
)
