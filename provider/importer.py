"""Loading a user's services from ``package.module:attr`` (``dubbo-recsys serve --app``), as uvicorn loads apps.

``attr`` (dotted for nested attributes) names one of:

- a ``Service`` object, or a list or tuple of them;
- a factory: any callable taking no arguments that returns the above (a ``Service``
  subclass whose constructor takes no arguments is one). With ``--workers N`` each
  worker calls it once, after the fork, so connections and threads it opens are
  the worker's own. Asynchronous setup belongs in the service's ``__aenter__``,
  which the server awaits before it listens.

The module is imported from the current directory too (``sys.path`` gets it, as
uvicorn does), so ``serve --app myapp:services`` works from a project's root.
Everything that goes wrong is an ``AppLoadError`` saying what and where.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from dubbo_recsys.provider.errors import ProviderError
from dubbo_recsys.provider.service import Service

__all__ = ["AppLoadError", "import_from_string", "load_services", "services_of"]


class AppLoadError(ProviderError, ValueError):
    """``--app`` does not name services that can be served."""


def import_from_string(spec: str) -> Any:
    """The object ``package.module:attr`` names."""
    module_name, _, attrs = spec.partition(":")
    if not module_name or not attrs:
        raise AppLoadError(f'--app {spec!r}: expected "package.module:attribute"')
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppLoadError(f"--app {spec!r}: no module named {exc.name!r}") from None
        raise
    found: Any = module
    for attr in attrs.split("."):
        try:
            found = getattr(found, attr)
        except AttributeError:
            raise AppLoadError(f"--app {spec!r}: module {module_name!r} has no attribute {attrs!r}") from None
    return found


def services_of(found: Any, spec: str = "the app") -> list[Service]:
    """The services ``found`` is or makes (see the module docstring)."""
    if isinstance(found, Service):
        return [found]
    if isinstance(found, (list, tuple)):
        if found and all(isinstance(item, Service) for item in found):
            return list(found)
        raise AppLoadError(f"{spec}: a list of Service objects is expected, got {_describe(found)}")
    if callable(found):
        made = _call(found, spec)
        if isinstance(made, (Service, list, tuple)):
            return services_of(made, f"{spec}()")
        raise AppLoadError(f"{spec}(): a factory must return a Service or a list of them, got {_describe(made)}")
    raise AppLoadError(f"{spec}: expected a Service, a list of Services or a factory, got {_describe(found)}")


def load_services(spec: str) -> list[Service]:
    """Import ``spec`` and make its services (a factory is called here)."""
    return services_of(import_from_string(spec), spec)


def _call(factory: Callable[[], Any], spec: str) -> Any:
    made = factory()
    if hasattr(made, "__await__"):
        close = getattr(made, "close", None)
        if callable(close):
            close()  # never awaited: do not leave a "coroutine was never awaited" warning behind
        raise AppLoadError(f"{spec}: the factory is async; make it plain and do async setup in __aenter__")
    return made


def _describe(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {', '.join(sorted({type(v).__name__ for v in value})) or 'nothing'}"
    return type(value).__name__
