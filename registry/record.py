"""``ExportedService``: what the provider tells the registry about one exported Dubbo service.

The provider builds one per exported (interface, version, group) once its socket listens, and hands it to
``Registry.register``; the same object goes to ``unregister`` at shutdown. It is plain data, checked when
built, so a bad value fails at startup with a message naming the field instead of producing a Nacos record
that Java consumers silently ignore. It knows nothing of Nacos: ``registry.naming`` turns it into the
service name and instance metadata Java's NacosRegistry writes.

Defaults are Dubbo's own (timeout 1000 ms, retries 2, weight 100); consumers inherit ``timeout`` and
``retries`` from the provider's record unless they set their own.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dubbo_recsys.registry.errors import ServiceRecordError

__all__ = ["RESERVED_PARAMS", "ExportedService"]

_JAVA_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*\Z")
_JAVA_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
# version and group are segments of the ':'-separated Nacos service name and of the provider URL.
_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]*\Z")
_HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\Z"
)

#: Metadata keys the registry writes itself; ``params`` may not set them (a wrong ``category`` or a
#: ``prefer.serialization`` listing fastjson2 would make Java consumers skip or mis-call the provider).
RESERVED_PARAMS = frozenset(
    {
        "protocol",
        "path",
        "interface",
        "category",
        "methods",
        "side",
        "application",
        "version",
        "group",
        "serialization",
        "prefer.serialization",
        "timeout",
        "retries",
        "weight",
        "anyhost",
        "pid",
        "timestamp",
        "generic",
    }
)


@dataclass(frozen=True)
class ExportedService:
    """One Dubbo service as exported on one ``host:port``; immutable and validated."""

    interface: str
    methods: tuple[str, ...]
    host: str
    port: int
    application: str
    version: str = ""
    group: str = ""
    timeout_ms: int = 1000
    retries: int = 2
    weight: int = 100
    anyhost: bool = False
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.interface, str) or not _JAVA_NAME.match(self.interface):
            raise ServiceRecordError(
                f"interface must be a Java class name like com.foo.DemoService, not {self.interface!r}"
            )
        methods = tuple(self.methods) if not isinstance(self.methods, str) else (self.methods,)
        if not methods:
            raise ServiceRecordError(f"{self.interface}: methods must name at least one method")
        for name in methods:
            if not isinstance(name, str) or not _JAVA_IDENTIFIER.match(name):
                raise ServiceRecordError(f"{self.interface}: method name {name!r} is not a Java identifier")
        object.__setattr__(self, "methods", tuple(dict.fromkeys(methods)))
        for label in ("version", "group"):
            value = getattr(self, label)
            if not isinstance(value, str) or not _SEGMENT.match(value):
                raise ServiceRecordError(
                    f"{self.interface}: {label} {value!r} may hold only letters, digits, "
                    f"'.', '_' and '-' (it is a segment of the Nacos service name)"
                )
        if self.version == "0.0.0":  # Dubbo treats 0.0.0 as "no version"
            object.__setattr__(self, "version", "")
        _check_host(self.interface, self.host)
        _check_int(self.interface, "port", self.port, 1, 65535)
        if not isinstance(self.application, str) or not self.application.strip() or "," in self.application:
            raise ServiceRecordError(
                f"{self.interface}: application must be a non-empty name without commas, not {self.application!r}"
            )
        _check_int(self.interface, "timeout_ms", self.timeout_ms, 1, 24 * 3600 * 1000)
        _check_int(self.interface, "retries", self.retries, 0, 100)
        _check_int(self.interface, "weight", self.weight, 0, 10_000)
        if not isinstance(self.anyhost, bool):
            raise ServiceRecordError(f"{self.interface}: anyhost must be a bool, not {self.anyhost!r}")
        object.__setattr__(self, "params", MappingProxyType(_check_params(self.interface, self.params)))

    def __hash__(self) -> int:
        # The generated hash would fail on the params mapping; hash its items instead.
        return hash(
            (
                self.interface,
                self.methods,
                self.host,
                self.port,
                self.application,
                self.version,
                self.group,
                self.timeout_ms,
                self.retries,
                self.weight,
                self.anyhost,
                tuple(sorted(self.params.items())),
            )
        )

    @property
    def service_key(self) -> str:
        """``group/interface:version`` as Dubbo prints it (empty parts left out); for logs."""
        key = f"{self.group}/{self.interface}" if self.group else self.interface
        return f"{key}:{self.version}" if self.version else key

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _check_host(interface: str, host: object) -> None:
    if not isinstance(host, str) or not host:
        raise ServiceRecordError(f"{interface}: host must be the address consumers connect to, not {host!r}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise ServiceRecordError(f"{interface}: host {host!r} is neither an IP address nor a host name") from None
        return
    if address.is_unspecified:
        raise ServiceRecordError(
            f"{interface}: host {host} is a bind-all address; register the address "
            f"consumers should dial (set anyhost=True to say the server binds all)"
        )


def _check_int(interface: str, label: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceRecordError(f"{interface}: {label} must be an integer in [{low}, {high}], not {value!r}")


def _check_params(interface: str, params: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(params, Mapping):
        raise ServiceRecordError(f"{interface}: params must be a mapping of strings, not {type(params).__name__}")
    checked: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ServiceRecordError(
                f"{interface}: params must map non-empty strings to strings, got {key!r}: {value!r}"
            )
        if key in RESERVED_PARAMS:
            raise ServiceRecordError(
                f"{interface}: params may not set {key!r}, the registry writes it "
                f"(use the ExportedService field instead)"
            )
        if any(c in key for c in "&=?#, ") or any(c in value for c in "&\n\r"):
            raise ServiceRecordError(f"{interface}: param {key!r}={value!r} contains a URL separator")
        checked[key] = value
    return checked
