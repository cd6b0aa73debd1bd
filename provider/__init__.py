"""dubbo:// provider and consumer: Dubbo2 framing, dispatch, asyncio transport, client.

Layers, each importable on its own (dependencies point down)::

    protocol    sans-I/O Dubbo2 frames: FrameReader, encode_* (no codec, no sockets)
    descriptor  JVM parameter descriptors <-> Java type names
    javatype    JavaType, and the Java type a Python hint stands for (and back)
    service     Service, java_method: a Python class as a Java interface (hints = contract)
    contract    ServiceContract & co.: a service's contract as data (for generators); Export
    dispatch    Invocation -> Outcome routing; $echo, $invoke (no bytes)
    body        request/response bodies over the hessian2 codec
    exchange    request frame -> whole answer frame (no sockets)
    eager       start_eagerly: a call runs at once, a Task only if it waits
    connection  one socket: fair turns, backpressure, in-flight bound, drain (LIMITS.md)
    transport   the asyncio listener: the only socket code; connection limits, READONLY, drain, hooks
    server      Server: the embeddable provider (services + registry + REST), started and
                stopped by its host; importer: ``--app module:attr`` -> services
    client      DubboClient: one multiplexed connection, timeouts, heartbeats
    convert     arguments checked and converted to the parameter hints, errors in Java terms
    services    our RecommendService and the seed's DubbogoInferService (on the service API)
    registration  registry records of the exports, on the server's lifecycle hooks;
                hostaddress: the address a wildcard bind publishes (Dubbo's NetUtils)
    serve, call   the CLI sub-commands (serve: the host around Server; server_options:
                  serve's dubbo:// flags; supervisor: --workers N kept running)
    javaapi     import-java (class files -> bindings, skeleton) and java-api (contract -> Maven module)

Names below are loaded on first use, so ``import provider`` (and the CLI's
``--help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what __getattr__ loads on first use, spelled out for type checkers
    from dubbo_recsys.provider.client import (
        DubboClient,
    )
    from dubbo_recsys.provider.config import (
        ClientConfig,
        ServerConfig,
    )
    from dubbo_recsys.provider.contract import (
        Export,
        JavaClass,
        JavaField,
        JavaKind,
        JavaMethod,
        JavaParameter,
        ServiceContract,
        contract_of,
        export_of,
    )
    from dubbo_recsys.provider.dispatch import (
        Dispatcher,
        Invocation,
        Raised,
        Refused,
        Returned,
    )
    from dubbo_recsys.provider.errors import (
        BodyError,
        ConfigError,
        ConnectionLostError,
        DescriptorError,
        FrameError,
        ProviderError,
        RemoteApplicationError,
        RemoteError,
        RemoteStatusError,
        RemoteTimeoutError,
        ServiceSpecError,
    )
    from dubbo_recsys.provider.importer import (
        load_services,
    )
    from dubbo_recsys.provider.javatype import (
        Java,
        JavaType,
        java_type_of,
    )
    from dubbo_recsys.provider.popular import (
        PopularRecommender,
    )
    from dubbo_recsys.provider.protocol import (
        Status,
    )
    from dubbo_recsys.provider.registration import (
        RegistrationSettings,
        register_beside,
    )
    from dubbo_recsys.provider.server import (
        Server,
    )
    from dubbo_recsys.provider.service import (
        Service,
        java_method,
    )
    from dubbo_recsys.provider.services import (
        default_exports,
        default_services,
    )
    from dubbo_recsys.provider.transport import (
        Lifecycle,
        install_uvloop,
    )

__all__ = [
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
    "Java",
    "JavaClass",
    "JavaField",
    "JavaKind",
    "JavaMethod",
    "JavaParameter",
    "JavaType",
    "Lifecycle",
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
    "Service",
    "ServiceContract",
    "ServiceSpecError",
    "Status",
    "contract_of",
    "default_exports",
    "default_services",
    "export_of",
    "install_uvloop",
    "java_method",
    "java_type_of",
    "load_services",
    "register_beside",
]

_WHERE = {
    "ServerConfig": "config",
    "ClientConfig": "config",
    "Server": "server",
    "Lifecycle": "transport",
    "install_uvloop": "transport",
    "DubboClient": "client",
    "Dispatcher": "dispatch",
    "Invocation": "dispatch",
    "Returned": "dispatch",
    "Raised": "dispatch",
    "Refused": "dispatch",
    "Export": "contract",
    "Java": "javatype",
    "JavaType": "javatype",
    "java_type_of": "javatype",
    "Service": "service",
    "java_method": "service",
    "ServiceContract": "contract",
    "JavaMethod": "contract",
    "JavaParameter": "contract",
    "JavaClass": "contract",
    "JavaField": "contract",
    "JavaKind": "contract",
    "contract_of": "contract",
    "export_of": "contract",
    "Status": "protocol",
    "PopularRecommender": "popular",
    "default_exports": "services",
    "default_services": "services",
    "load_services": "importer",
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
