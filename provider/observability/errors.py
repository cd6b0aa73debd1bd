"""The observability package's errors: one base class.

::

    ObservabilityError            anything this package refuses to do
    └── ObservabilityConfigError  a setting is out of range (also a ValueError)

Recording never raises into a request: an observer that fails is logged and
skipped, so a metrics bug cannot turn an answer into an error.
"""

from __future__ import annotations


class ObservabilityError(Exception):
    """Base class for every error this package raises."""


class ObservabilityConfigError(ObservabilityError, ValueError):
    """A setting is out of range; the message names it."""
