"""REST shim: the operator's HTTP surface of a provider, onto one ``interfaces.recommender.Recommender``.

JSON inference (``/recommend``, the seed's ``/infer``) with an explain mode, JWT
login, health and readiness probes, Prometheus ``/metrics``, the OpenAPI document
and a console page. FastAPI app served by uvicorn on the caller's event loop::

    async with RestShim(recommender, RestShimConfig(port=0), exports) as shim:
        ...  # http://127.0.0.1:{shim.port}/recommend?userId=u1

or, inside ``dubbo-recsys serve``, tied to the dubbo:// server's lifecycle::

    config = options.config_from_args(args)
    if config is not None:
        rest = RestShim(recommender, config, exports, registry_url=args.registry).attach(lifecycle)

Needs the ``rest`` and ``observability`` extras. Config, errors and ``options``
import without them; the server names load on first use, so ``dubbo-recsys --help``
stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dubbo_recsys.provider.rest.config import DEFAULT_PORT, JwtConfig, RestShimConfig, RestUser, Role, parse_users
from dubbo_recsys.provider.rest.errors import AuthError, RestShimConfigError, RestShimError, RestShimStartError

if TYPE_CHECKING:
    from dubbo_recsys.provider.rest.app import build_app
    from dubbo_recsys.provider.rest.auth import Authenticator
    from dubbo_recsys.provider.rest.server import RestShim, run_beside

__all__ = [
    "DEFAULT_PORT",
    "AuthError",
    "Authenticator",
    "JwtConfig",
    "RestShim",
    "RestShimConfig",
    "RestShimConfigError",
    "RestShimError",
    "RestShimStartError",
    "RestUser",
    "Role",
    "build_app",
    "parse_users",
    "run_beside",
]

_LAZY = {"RestShim": "server", "run_beside": "server", "build_app": "app", "Authenticator": "auth"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
