"""Registry URLs, as Dubbo spells them, parsed into frozen ``NacosSettings`` (or ``None`` for no registry).

Accepted::

    none | N/A | "" (empty)                       no registry: consumers connect directly (the default)
    nacos://host[:port][,host2[:port]]?params     Nacos; port defaults to 8848 (gRPC is port + 1000)

Parameters (each at most once; anything else is an error, so a typo cannot silently fall back to a
default namespace)::

    namespace        Nacos namespace id (default: empty = the "public" namespace)
    group            Nacos group of the registered services (default DEFAULT_GROUP)
    username         Nacos auth user (with password)
    password         Nacos auth password, percent-encoded in the URL if it holds & = ? # or %
    backup           more host[:port] addresses, comma separated (Dubbo's spelling of a cluster)
    unregister.wait  milliseconds to wait after deregistering at shutdown, so consumers see the push
                     before the provider turns READONLY (default 10000, Java Dubbo's default)
    register-mode    interface (default: the records every Dubbo consumer finds), instance (Dubbo 3
                     application-level only) or all (both, as Java 3.x providers do)

This module only parses and validates; ``registry.nacos`` connects.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from dubbo_recsys.registry.errors import RegistryURLError

__all__ = ["DEFAULT_GROUP", "DEFAULT_NACOS_PORT", "NacosSettings", "parse_registry_url", "redact_registry_url"]

DEFAULT_NACOS_PORT = 8848
DEFAULT_GROUP = "DEFAULT_GROUP"
DEFAULT_UNREGISTER_WAIT = 10.0
_NO_REGISTRY = {"", "none", "n/a", "direct"}
_PARAMS = ("namespace", "group", "username", "password", "backup", "unregister.wait", "register-mode")
REGISTER_MODES = ("interface", "instance", "all")
_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,128}\Z")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?\Z")


@dataclass(frozen=True)
class NacosSettings:
    """Where Nacos is and how to talk to it; validated when built, never changed afterwards."""

    addresses: tuple[str, ...]
    namespace: str = ""
    group: str = DEFAULT_GROUP
    username: str = ""
    password: str = field(default="", repr=False)
    unregister_wait: float = DEFAULT_UNREGISTER_WAIT
    #: Seconds one Nacos call may take before it counts as failed (the SDK's own default is 10 s).
    request_timeout: float = 5.0
    #: Seconds between checks of the connection; a reconnect re-registers every service at once.
    check_interval: float = 1.0
    #: interface, instance (application-level) or all; see registry.application.
    register_mode: str = "interface"
    #: Where the Nacos SDK keeps its logs and cache (``logs/``, ``cache/``); None = the SDK's ``~`` default.
    work_dir: Path | None = None

    def __post_init__(self) -> None:
        if not self.addresses:
            raise RegistryURLError("Nacos needs at least one host:port address")
        for address in self.addresses:
            _split_address(address)
        if self.namespace and not _NAME.match(self.namespace):
            raise RegistryURLError(f"namespace {self.namespace!r} must be 1-128 letters, digits, '_', '-', '.', ':'")
        if not _NAME.match(self.group):
            raise RegistryURLError(f"group {self.group!r} must be 1-128 letters, digits, '_', '-', '.', ':'")
        if self.register_mode not in REGISTER_MODES:
            raise RegistryURLError(
                f"register-mode must be one of {', '.join(REGISTER_MODES)}, not {self.register_mode!r}"
            )
        if bool(self.username) != bool(self.password):
            raise RegistryURLError("username and password go together: give both or neither")
        for label in ("unregister_wait", "request_timeout", "check_interval"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
                raise RegistryURLError(f"{label} must be a number of seconds in [0, 3600], not {value!r}")
        if self.request_timeout <= 0 or self.check_interval <= 0:
            raise RegistryURLError("request_timeout and check_interval must be more than 0 seconds")

    @property
    def server_addresses(self) -> str:
        """``host:port,host:port`` as the Nacos SDK takes it."""
        return ",".join(self.addresses)

    @property
    def namespace_or_public(self) -> str:
        return self.namespace or "public"


def parse_registry_url(url: str | None) -> NacosSettings | None:
    """Parse ``none`` / ``nacos://...``; raise ``RegistryURLError`` saying what is wrong and what is accepted."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise RegistryURLError(f"registry URL must be a string, not {type(url).__name__}")
    text = url.strip()
    if text.lower() in _NO_REGISTRY:
        return None
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise RegistryURLError(f"registry URL {_redact(text)!r} has no scheme: use nacos://host:port or none")
    if scheme.lower() != "nacos":
        raise RegistryURLError(f"registry scheme {scheme!r} is not supported: use nacos://host:port or none")
    authority, _, query = rest.partition("?")
    authority = authority.rstrip("/")
    if "/" in authority:
        raise RegistryURLError(f"registry URL {_redact(text)!r} has a path; Nacos URLs are nacos://host:port?...")
    if "@" in authority:
        raise RegistryURLError("put Nacos credentials in ?username=..&password=.., not before the host")
    params = _parse_query(query)
    addresses = [_normalise_address(a) for a in authority.split(",")]
    if "backup" in params:
        addresses += [_normalise_address(a) for a in params["backup"].split(",")]
    wait = DEFAULT_UNREGISTER_WAIT
    if "unregister.wait" in params:
        raw = params["unregister.wait"]
        if not raw.isdigit():
            raise RegistryURLError(f"unregister.wait must be whole milliseconds, not {raw!r}")
        wait = int(raw) / 1000.0
    return NacosSettings(
        addresses=tuple(dict.fromkeys(addresses)),
        namespace=params.get("namespace", ""),
        group=params.get("group", "") or DEFAULT_GROUP,
        username=params.get("username", ""),
        password=params.get("password", ""),
        unregister_wait=wait,
        register_mode=params.get("register-mode", "interface"),
    )


def _parse_query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if not query:
        return params
    for part in query.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        key = urllib.parse.unquote(key)
        if key not in _PARAMS:
            raise RegistryURLError(f"unknown registry parameter {key!r}; accepted: {', '.join(_PARAMS)}")
        if not eq:
            raise RegistryURLError(f"registry parameter {key!r} has no value (write {key}=...)")
        if key in params:
            raise RegistryURLError(f"registry parameter {key!r} is given twice")
        params[key] = urllib.parse.unquote(value)
    return params


def _normalise_address(address: str) -> str:
    host, port = _split_address(address.strip())
    return f"{host}:{port}"


def _split_address(address: str) -> tuple[str, int]:
    if not address:
        raise RegistryURLError("empty Nacos address: write nacos://host:port")
    if address.startswith("["):
        host, _, tail = address[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else ""
        if tail and not tail.startswith(":"):
            raise RegistryURLError(f"Nacos address {address!r} is not [ipv6]:port")
        display = f"[{host}]"
    else:
        host, _, port_text = address.rpartition(":") if ":" in address else (address, "", "")
        display = host
    if not host:
        raise RegistryURLError(f"Nacos address {address!r} has no host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            raise RegistryURLError(f"Nacos host {host!r} is not a host name or IP address") from None
    if not port_text:
        return display, DEFAULT_NACOS_PORT
    if not port_text.isdigit():
        raise RegistryURLError(f"Nacos port {port_text!r} in {address!r} is not a number")
    port = int(port_text)
    # gRPC listens on port + 1000, so the HTTP port must leave room for it.
    if not 1 <= port <= 65535 - 1000:
        raise RegistryURLError(f"Nacos port {port} is out of range 1-{65535 - 1000} (gRPC uses port + 1000)")
    return display, port


def redact_registry_url(text: str) -> str:
    """The URL with its password replaced by ``***`` (``?password=`` and ``user:pass@``), for logs."""
    text = re.sub(r"(password=)[^&#]*", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(://[^/@?#:]*:)[^/@?#]*@", r"\1***@", text)


_redact = redact_registry_url
