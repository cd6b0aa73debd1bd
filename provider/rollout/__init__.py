"""Artifact versions served live: loaded beside, gated, swapped while serving, rolled back through Nacos.

``serve --artifact-root ROOT`` serves the versions ``dubbo-recsys build --artifact-root ROOT`` writes
(``offline.versions``): the one pinned by ``dubbo-recsys publish`` (a Nacos config every provider of
the fleet watches, or ``ROOT/pin.json``), else the newest valid one. Each worker runs one
``RolloutController``; the request path sees only ``PipelineApp``'s reference to a ``ServingVersion``,
read once per call. Modules, top down::

    controller   the loop: pin + root -> policy -> memory -> gate -> load -> hooks -> smoke -> swap
    policy       which version to serve (pure)            pin, pins   the pin document; where it is read/written
    gate         file checks, metric margin, smoke set     memory      can a second version fit
    version      one loaded version and its release        state       per-worker state for /metrics, console, Nacos
    config, options   RolloutConfig and the serve flags    *_command   publish, rollback, versions

Everything loaded beside the serving version is released when its last call ends.
"""

from dubbo_recsys.provider.rollout.config import GateConfig, RolloutConfig
from dubbo_recsys.provider.rollout.errors import PinError, RolloutConfigError, RolloutError, VersionRefused
from dubbo_recsys.provider.rollout.pin import Pin, parse_pin

__all__ = [
    "GateConfig",
    "Pin",
    "PinError",
    "RolloutConfig",
    "RolloutConfigError",
    "RolloutError",
    "VersionRefused",
    "parse_pin",
]
