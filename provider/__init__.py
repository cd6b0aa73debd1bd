"""dubbo:// provider and consumer: Dubbo2 framing, dispatch, asyncio transport, client.

Layers, each importable on its own (dependencies point down)::

    protocol    sans-I/O Dubbo2 frames: FrameReader, encode_* (no codec, no sockets)
    descriptor  JVM parameter descriptors <-> Java type names
    spec        ServiceSpec / MethodSpec / Export: a Python object as a Java interface
    dispatch    Invocation -> Outcome routing; $echo, $invoke (no bytes)
    body        request/response bodies over the hessian2 codec
    exchange    request frame -> whole answer frame (no sockets)
    eager       start_eagerly: a call runs at once, a Task only if it waits
    connection  one socket: fair turns, backpressure, in-flight bound, drain (LIMITS.md)
    transport   asyncio Server: listener, connection limits, READONLY, drain, hooks
    client      DubboClient: one multiplexed connection, timeouts, heartbeats
    services    our RecommendService and the seed's DubbogoInferService
    registration  registry records of the exports, on the server's lifecycle hooks
    serve, call   the CLI sub-commands (server_options: serve's dubbo:// flags;
                  supervisor: --workers N kept running)

Names below are loaded on first use, so ``import provider`` (and the CLI's
``--help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RECOMMEND_SPEC",
    "SEED_SPEC",
    "BodyError",
    "ClientConfig",
    "ConfigError",
    "ConnectionLostError",
    "DescriptorError",
    "Dispatcher",
    "DubboClient",
    "Export",
    "FrameError",
    "Invocation",
    "Lifecycle",
    "MethodSpec",
    "PopularRecommender",
    "ProviderError",
    "Raised",
    "Refused",
    "RegistrationSettings",
    "RemoteApplicationError",
    "RemoteError",
    "RemoteStatusError",
    "RemoteTimeoutError",
    "Returned",
    "Server",
    "ServerConfig",
    "ServiceSpec",
    "ServiceSpecError",
    "Status",
    "default_exports",
    "install_uvloop",
    "register_beside",
    "serve_exports",
]

_WHERE = {
    "ServerConfig": "config",
    "ClientConfig": "config",
    "Server": "transport",
    "Lifecycle": "transport",
    "install_uvloop": "transport",
    "DubboClient": "client",
    "Dispatcher": "dispatch",
    "Invocation": "dispatch",
    "Returned": "dispatch",
    "Raised": "dispatch",
    "Refused": "dispatch",
    "ServiceSpec": "spec",
    "MethodSpec": "spec",
    "Export": "spec",
    "Status": "protocol",
    "PopularRecommender": "popular",
    "default_exports": "services",
    "RECOMMEND_SPEC": "services",
    "SEED_SPEC": "services",
    "serve_exports": "serve",
    "RegistrationSettings": "registration",
    "register_beside": "registration",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name, "errors" if name in __all__ else None)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
