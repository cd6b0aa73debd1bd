"""The provider's exception tree: everything it raises derives from ``ProviderError``.

```
ProviderError
 +-- FrameError          the byte stream is not Dubbo2 framing; the connection must close
 +-- BodyError           a frame body is not a valid invocation/result (bad descriptor, codec error)
 |    +-- DescriptorError  a JVM parameter descriptor that does not parse
 +-- ConfigError         invalid server/client configuration (raised when the config is built)
 +-- ServiceSpecError    an exported service whose spec does not match its implementation
 +-- RemoteError         client side: the provider answered with something other than a value
      +-- RemoteStatusError       a non-OK status (40, 60, 70, 25, 100, ...) and its message
      +-- RemoteApplicationError  status 20 with an exception object (the Java side threw)
      +-- RemoteTimeoutError      no answer within the call's timeout
      +-- ConnectionLostError     the connection closed with calls pending
```

Protocol-level problems that the peer caused are answered on the wire and never
escape the connection that caused them; these classes are for the code that must
decide what to answer, and for client callers.
"""

from __future__ import annotations

from typing import Any


class ProviderError(Exception):
    """Base of every error raised by ``provider``."""


class FrameError(ProviderError):
    """The peer broke Dubbo2 framing (wrong magic, negative length); the connection is unusable."""


class BodyError(ProviderError):
    """A frame body that cannot be read as what its header says it is."""


class DescriptorError(BodyError):
    """A JVM parameter descriptor such as ``Ljava/lang/String;I`` that does not parse."""


class ConfigError(ProviderError, ValueError):
    """Invalid configuration, reported when the configuration object is built."""


class ServiceSpecError(ProviderError, ValueError):
    """A service spec that cannot be exported (missing method, duplicate route, ...)."""


class RemoteError(ProviderError):
    """Client side: the call did not produce a value."""


class RemoteStatusError(RemoteError):
    """The provider answered with a non-OK status; ``message`` is its text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"status {status}: {message}")
        self.status = status
        self.message = message


class RemoteApplicationError(RemoteError):
    """The provider's method threw; ``exception`` is the decoded Java exception object."""

    def __init__(self, exception: Any, message: str) -> None:
        super().__init__(message)
        self.exception = exception
        self.message = message


class RemoteTimeoutError(RemoteError, TimeoutError):
    """No answer arrived within the call's timeout."""


class ConnectionLostError(RemoteError, ConnectionError):
    """The connection closed while the call was waiting for its answer."""
