"""The REST shim's errors: one base class; only start-up errors leave the shim.

::

    RestShimError                 anything the shim refuses to do
    ├── RestShimConfigError       a RestShimConfig field is out of range (also a ValueError)
    ├── RestShimStartError        the HTTP server could not bind or start
    └── AuthError                 a login or a token is refused (caught inside: 401/403)

Per-request problems never raise out of the app: a malformed body is a 422 naming
where it is wrong, a missing or bad token a 401, a token without the role a 403,
an unknown path a 404, and a recommender that raises a 500; the server carries on.
"""

from __future__ import annotations


class RestShimError(Exception):
    """Base class for every error the REST shim raises."""


class RestShimConfigError(RestShimError, ValueError):
    """A configuration value is out of range; the message names the field."""


class RestShimStartError(RestShimError):
    """The HTTP server could not bind its address or start."""


class AuthError(RestShimError):
    """Credentials or a token were refused; ``status`` is the HTTP answer (401 or 403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status
