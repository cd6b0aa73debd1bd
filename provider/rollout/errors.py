"""The rollout package's errors: one base class.

::

    RolloutError              anything the rollout refuses
    ├── RolloutConfigError    a serve flag or a publish argument is unusable (also a ValueError)
    ├── PinError              a pin document that does not parse (the pin stays what it was)
    └── VersionRefused        a version failed a step (memory, gate, load, warm-up, smoke):
                              ``check`` names the step, the message says why; the serving version stays

A refusal never reaches a caller: the controller logs it, counts it and keeps serving.
"""

from __future__ import annotations

__all__ = ["PinError", "RolloutConfigError", "RolloutError", "VersionRefused"]


class RolloutError(Exception):
    """Base class for every error this package raises."""


class RolloutConfigError(RolloutError, ValueError):
    """A rollout setting is out of range or inconsistent; the message names it."""


class PinError(RolloutError, ValueError):
    """A pin document (Nacos config or ``pin.json``) that is not what ``publish`` writes."""


class VersionRefused(RolloutError):
    """A version that must not serve; ``check`` is the step that refused it (a bounded label)."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(reason)
        self.check = check
        self.reason = reason
