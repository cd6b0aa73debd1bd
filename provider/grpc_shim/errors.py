"""The gRPC shim's errors: one base class; only start-up errors leave the shim.

::

    GrpcShimError                 anything the shim refuses to do
    ├── GrpcShimConfigError       a GrpcShimConfig field is out of range (also a ValueError)
    ├── GrpcShimStartError        the server could not bind or start
    └── RequestShapeError         a request cannot be translated (caught inside: answer 400)

Per-request problems never raise out of the shim: a malformed request becomes an
in-band ``code`` 400 answer (see ``translate``), a recommender that raises becomes
an in-band 500, and gRPC itself answers undecodable bytes with a status.
"""

from __future__ import annotations


class GrpcShimError(Exception):
    """Base class for every error the gRPC shim raises."""


class GrpcShimConfigError(GrpcShimError, ValueError):
    """A configuration value is out of range; the message names the field."""


class GrpcShimStartError(GrpcShimError):
    """The server could not bind its address or start."""


class RequestShapeError(GrpcShimError):
    """A request's fields cannot become a ``RecommendRequest``; the message says which.

    Raised by ``translate`` and turned into a ``code`` 400 answer by the servicers;
    it never reaches gRPC.
    """
