"""Which version to serve: the version policy, as pure functions of what the root holds and the pin says.

TF Serving's "latest" and "specific" policies, with a refusal memory:

- with a pin, serve the pinned version: nothing else, newer or older (an operator chose it);
- without one, serve the newest version, and never go back to an older one on our own (a version
  that disappears from the root keeps serving until something newer is valid);
- a version refused once is not tried again for the same pin (it would be refused again, every poll):
  ``refused`` holds the ids refused since the pin last changed, and the controller clears it when a
  new pin arrives, so re-publishing a version means "try it again".

At start there is no serving version yet: ``start_candidates`` lists what to try in order, so a
provider whose pinned or newest version is broken still comes up on the next valid one.
No I/O here; the controller lists the root and reads the pin.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from dubbo_recsys.provider.rollout.pin import Pin

__all__ = ["next_version", "start_candidates"]


def next_version(
    available: Sequence[str], pin: Pin | None, serving: str | None, refused: Collection[str]
) -> str | None:
    """The version to load now, or ``None`` to keep serving what serves (``available`` sorted oldest first)."""
    if pin is not None:
        wanted = pin.version
        if wanted == serving or wanted in refused or wanted not in available:
            return None
        return wanted
    for version in reversed(available):
        if serving is not None and version <= serving:
            return None  # never older than what serves, without a pin
        if version not in refused:
            return version
    return None


def start_candidates(available: Sequence[str], pin: Pin | None, refused: Collection[str] = ()) -> list[str]:
    """What to try at start, best first: the pinned version, then the others newest first."""
    ordered = [v for v in reversed(available) if v not in refused]
    if pin is not None and pin.version in ordered:
        ordered.remove(pin.version)
        ordered.insert(0, pin.version)
    return ordered
