"""Application-level registration records, as Dubbo 3 providers write them. No I/O.

Dubbo 3 consumers look providers up by application first (APPLICATION_FIRST) and fall back to the
interface-level records (``registry.naming``). The application-level view, with the metadata kept in
Nacos itself ("remote" storage, which needs no MetadataService RPC on our side):

- one instance per provider process in the naming service named after the application, in the same
  Nacos group, at the dubbo ``host:port``, with metadata ``dubbo.metadata.revision`` (a digest of the
  services below), ``dubbo.metadata.storage-type=remote`` and
  ``dubbo.endpoints=[{"port":P,"protocol":"dubbo"}]``;
- a config, dataId = application, group = revision, holding the ``MetadataInfo`` JSON:
  ``{"app", "revision", "services": {matchKey: {name, group, version, protocol, port, path, params}}}``
  where matchKey is ``[group/]interface[:version]:dubbo``;
- the service-name mapping: a config, dataId = interface, group ``mapping``, content = the
  comma-separated application names that export it (merged with what is there).

The revision is computed as Java's ``MetadataInfo.calRevision`` does: the MD5 (hex) of the application
name followed, for each service in matchKey order, by matchKey + port + path + the params rendered as
Java's ``TreeMap.toString()`` (``{a=1, b=2}``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from dubbo_recsys.registry.naming import instance_metadata
from dubbo_recsys.registry.record import ExportedService

__all__ = ["MAPPING_GROUP", "AppMetadata", "app_instance_metadata", "app_metadata", "merge_mapping"]

MAPPING_GROUP = "mapping"
# Instance-specific keys Java keeps out of the shared service metadata.
_INSTANCE_ONLY = frozenset({"pid", "timestamp", "anyhost"})


class AppMetadata:
    """The ``MetadataInfo`` of one application: its services, revision and JSON form."""

    def __init__(self, application: str, services: dict[str, dict[str, object]], revision: str) -> None:
        self.application = application
        self.services = services
        self.revision = revision

    def to_json(self) -> str:
        return json.dumps(
            {"app": self.application, "revision": self.revision, "services": self.services},
            separators=(",", ":"),
            sort_keys=True,
        )


def _service_key(service: ExportedService) -> str:
    key = f"{service.group}/{service.interface}" if service.group else service.interface
    return f"{key}:{service.version}" if service.version else key


def _java_map_string(params: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + "}"


def app_metadata(services: Iterable[ExportedService]) -> AppMetadata:
    """The MetadataInfo for the services one process exports (all of one application)."""
    services = list(services)
    if not services:
        raise ValueError("an application needs at least one exported service")
    application = services[0].application
    infos: dict[str, dict[str, object]] = {}
    for service in services:
        if service.application != application:
            raise ValueError(f"services of two applications: {application!r} and {service.application!r}")
        params = {k: v for k, v in instance_metadata(service, timestamp_ms=0, pid=0).items() if k not in _INSTANCE_ONLY}
        match_key = f"{_service_key(service)}:dubbo"
        info: dict[str, object] = {
            "name": service.interface,
            "protocol": "dubbo",
            "port": service.port,
            "path": service.interface,
            "params": params,
        }
        if service.group:
            info["group"] = service.group
        if service.version:
            info["version"] = service.version
        infos[match_key] = info
    digest = application + "".join(
        f"{key}{info['port']}{info['path']}{_java_map_string(info['params'])}"  # type: ignore[arg-type]  # params is the dict of strings built above
        for key, info in sorted(infos.items())
    )
    return AppMetadata(application, infos, hashlib.md5(digest.encode("utf-8")).hexdigest())


def app_instance_metadata(metadata: AppMetadata, port: int) -> dict[str, str]:
    return {
        "dubbo.metadata.revision": metadata.revision,
        "dubbo.metadata.storage-type": "remote",
        "dubbo.endpoints": json.dumps([{"port": port, "protocol": "dubbo"}], separators=(",", ":")),
    }


def merge_mapping(existing: str | None, application: str) -> str:
    """The mapping content with ``application`` added (comma separated, order kept, no duplicates)."""
    names = [n.strip() for n in (existing or "").split(",") if n.strip()]
    if application not in names:
        names.append(application)
    return ",".join(names)
