"""How an ``ExportedService`` is spelled in Nacos so Java's NacosRegistry finds it. No I/O.

Interface-level registration, as Dubbo's ``org.apache.dubbo.registry.nacos.NacosRegistry`` writes it:

- service name ``providers:<interface>:<version>:<group>`` with empty segments kept, e.g.
  ``providers:com.foo.DemoService::``. A consumer looks up exactly this name (and, for Dubbo <= 2.7.3
  compatibility, ``providers:<interface>[:<version>][:<group>]``, which equals ours when both are set);
- one ephemeral instance at ``host:port`` in the configured Nacos group and namespace, weight 1.0;
- instance metadata = the provider URL's parameters plus ``protocol``, ``path`` and ``category``. A
  consumer rebuilds ``protocol://host:port/path?metadata`` from it and keeps it when ``interface``,
  ``category=providers``, ``version`` and ``group`` match its reference and ``enabled`` is not false.

Metadata we always write (Java 3.x providers write the same keys): ``protocol=dubbo``, ``path``,
``interface``, ``category=providers``, ``side=provider``, ``application``, ``methods`` (sorted, comma
separated, as Java does), ``dubbo=2.0.2`` (the Dubbo2 protocol version; consumers use it to decide on
response attachments), ``release``, ``timestamp`` (ms), ``pid``, ``timeout``, ``retries``, ``weight``,
``anyhost``, ``dynamic=true``, ``deprecated=false``, ``generic=false``, ``serialization=hessian2`` and
``prefer.serialization=hessian2`` (a 3.2+ consumer otherwise prefers its own default list, which starts
with fastjson2, a serialization we do not speak); ``version`` and ``group`` only when set; then the
record's extra ``params``.

This module does not talk to Nacos, choose addresses or decide when to register.
"""

from __future__ import annotations

import urllib.parse

from dubbo_recsys.registry.record import ExportedService

__all__ = [
    "DEFAULT_RELEASE",
    "DUBBO_PROTOCOL_VERSION",
    "PROVIDERS_CATEGORY",
    "instance_metadata",
    "provider_url",
    "service_name",
]

PROVIDERS_CATEGORY = "providers"
#: The Dubbo2 wire protocol version every Dubbo 2.7/3.x provider advertises as ``dubbo=``.
DUBBO_PROTOCOL_VERSION = "2.0.2"
#: ``release=`` names the Dubbo release whose provider record we reproduce; a record's params may override.
DEFAULT_RELEASE = "3.3.0"
_SERIALIZATION = "hessian2"


def service_name(service: ExportedService, category: str = PROVIDERS_CATEGORY) -> str:
    """``providers:<interface>:<version>:<group>``, empty segments kept."""
    return f"{category}:{service.interface}:{service.version}:{service.group}"


def instance_metadata(service: ExportedService, *, timestamp_ms: int, pid: int) -> dict[str, str]:
    """The instance metadata Java's NacosRegistry would register for this provider URL."""
    metadata = {
        "protocol": "dubbo",
        "path": service.interface,
        "interface": service.interface,
        "category": PROVIDERS_CATEGORY,
        "side": "provider",
        "application": service.application,
        "methods": ",".join(sorted(service.methods)),
        "dubbo": DUBBO_PROTOCOL_VERSION,
        "release": DEFAULT_RELEASE,
        "timestamp": str(timestamp_ms),
        "pid": str(pid),
        "timeout": str(service.timeout_ms),
        "retries": str(service.retries),
        "weight": str(service.weight),
        "anyhost": "true" if service.anyhost else "false",
        "dynamic": "true",
        "deprecated": "false",
        "generic": "false",
        "serialization": _SERIALIZATION,
        "prefer.serialization": _SERIALIZATION,
    }
    if service.version:
        metadata["version"] = service.version
    if service.group:
        metadata["group"] = service.group
    metadata.update(service.params)
    return metadata


def provider_url(service: ExportedService, metadata: dict[str, str]) -> str:
    """The ``dubbo://host:port/interface?k=v&...`` URL a Java consumer rebuilds from the record (for logs)."""
    query = "&".join(
        f"{key}={urllib.parse.quote(value, safe=',.:-_*/')}"
        for key, value in sorted(metadata.items())
        if key not in ("protocol", "path")
    )
    return f"dubbo://{service.address}/{service.interface}?{query}"
