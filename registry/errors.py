"""The errors of the ``registry`` package: one base, each subclass names what went wrong.

::

    RegistryError                      anything this package raises on purpose
    ├── RegistryURLError (ValueError)  a registry URL we cannot use (scheme, host, port, parameter)
    ├── ServiceRecordError (ValueError) an ExportedService that Nacos or a Java consumer would not accept
    ├── RegistryUnavailableError       the Nacos SDK is not installed, or the server did not answer in time
    └── SceneConfigError (ValueError)  a scene configuration that does not validate (says where: $.model_conf[0].x)

A provider catches ``RegistryError`` around startup; nothing here is raised while serving a request.
"""

from __future__ import annotations

__all__ = [
    "RegistryError",
    "RegistryURLError",
    "RegistryUnavailableError",
    "SceneConfigError",
    "ServiceRecordError",
]


class RegistryError(Exception):
    """Base of every error the registry package raises on purpose."""


class RegistryURLError(RegistryError, ValueError):
    """A registry URL that cannot be used; the message says which part and what is accepted."""


class ServiceRecordError(RegistryError, ValueError):
    """An exported-service record with a field that would break the Nacos record or a Java consumer."""


class RegistryUnavailableError(RegistryError):
    """The Nacos client library is missing, or the server did not answer within the configured time."""


class SceneConfigError(RegistryError, ValueError):
    """A scene configuration that does not validate; ``path`` locates the bad value (``$.a.b[2]``)."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(f"{message} - at {path}")
        self.path = path
        self.reason = message
