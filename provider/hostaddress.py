"""The address a provider bound to every interface publishes: Dubbo's ``NetUtils.getLocalHost``.

A Java provider with no host configured binds ``0.0.0.0`` ("anyhost") and registers
this machine's address, chosen as Dubbo 3.3's ``NetUtils.getLocalAddress0`` does:

1. the network interfaces that are up, not loopback and not virtual (``eth0:1``),
   minus those ``DUBBO_NETWORK_INTERFACE_IGNORED`` names (comma-separated names or
   regular expressions, Java's ``dubbo.network.interface.ignored``); the one named by
   ``DUBBO_NETWORK_INTERFACE_PREFERRED`` if any (``dubbo.network.interface.preferred``),
   else the first with a valid IPv4 address; its first valid IPv4 address;
2. else the address this host name resolves to, if it is not a loopback one;
3. else ``127.0.0.1``.

"Valid" is Dubbo's ``isValidV4Address``: IPv4, not loopback, not ``0.0.0.0``. Java also
probes each candidate with ``isReachable(100)``; we do not (an ICMP echo per start is
not worth a 100 ms stall, and an interface that is up with an address is what that
probe finds in practice). Interfaces are read with the Linux ``SIOCGIF*`` ioctls;
elsewhere step 1 finds nothing and step 2 decides. ``DUBBO_IP_TO_REGISTRY`` and
``--advertise-host``, which win over all of this, are ``provider.registration``'s.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import re
import socket
import struct

__all__ = ["IGNORED_ENV", "PREFERRED_ENV", "is_valid_v4", "local_address"]

IGNORED_ENV = "DUBBO_NETWORK_INTERFACE_IGNORED"
PREFERRED_ENV = "DUBBO_NETWORK_INTERFACE_PREFERRED"
_SIOCGIFFLAGS = 0x8913
_SIOCGIFADDR = 0x8915
_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8


def is_valid_v4(address: str) -> bool:
    """Dubbo's ``isValidV4Address``: an IPv4 address other than loopback and ``0.0.0.0``."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return parsed.version == 4 and not parsed.is_loopback and not parsed.is_unspecified


def local_address() -> str:
    """This machine's address as Dubbo picks it (see the module docstring)."""
    candidates = _interfaces()
    preferred = os.environ.get(PREFERRED_ENV, "").strip()
    for name, address in candidates:
        if preferred and name == preferred:
            return address
    if candidates:
        return candidates[0][1]
    try:
        resolved = socket.gethostbyname(socket.gethostname())
    except OSError:
        resolved = ""
    return resolved if is_valid_v4(resolved) else "127.0.0.1"


def _interfaces() -> list[tuple[str, str]]:
    """``(name, first valid IPv4 address)`` of each usable interface, in index order."""
    ignored = [part.strip() for part in os.environ.get(IGNORED_ENV, "").split(",") if part.strip()]
    try:
        names = [name for _, name in socket.if_nameindex()]
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return []
    found = []
    with probe:
        for name in names:
            if ":" in name or _ignored(name, ignored):  # "eth0:1" is what Java calls virtual
                continue
            request = struct.pack("256s", name.encode()[:15])
            try:
                flags = struct.unpack_from("H", fcntl.ioctl(probe.fileno(), _SIOCGIFFLAGS, request), 16)[0]
                if not flags & _IFF_UP or flags & _IFF_LOOPBACK:
                    continue
                address = socket.inet_ntoa(fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)[20:24])
            except OSError:  # no IPv4 address on it, or not Linux
                continue
            if is_valid_v4(address):
                found.append((name, address))
    return found


def _ignored(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if name == pattern:
            return True
        try:
            if re.fullmatch(pattern, name):
                return True
        except re.error:
            continue
    return False
