"""Our own recommend contract: ``org.dubborecsys.api.RecommendService``.

Mirrored field for field by the Java sources in
``java-client-sample/src/main/java/org/dubborecsys/api/``. Field names are the
Java field names (Hessian matches fields by name), so they stay camelCase.
The annotations decide the Java widths (see ``hessian2``): plain ``int`` is a
Java ``int``, ``float`` a Java ``double``.

This module only declares data; the implementation lives in ``provider``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass, field
from typing import Annotated

from hessian2 import JavaObject, MaxItems

INTERFACE = "org.dubborecsys.api.RecommendService"
VERSION = "1.0.0"
# What one request may ask for, on every protocol (issue 11: a request's cost is bounded by
# its size class; a caller beyond a bound gets code 400 saying which, before any work).
# Over dubbo:// the lists and the map are also MaxItems fields: a longer one is refused while
# the body is read, before it is built (status 40 naming the field), so a million ids cost
# what reading their bytes costs.
MAX_COUNT = 1000  # items in the answer
MAX_CANDIDATES = MAX_COUNT  # candidateIds to rank
MAX_EXPOSURE = 10_000  # exposureList entries to filter out
MAX_CONTEXT = 256  # context entries
MAX_TEXT = 256  # characters of userId, scene, an item id, a context key or value


@dataclass
class RecommendRequest(JavaObject, java_class="org.dubborecsys.api.RecommendRequest"):
    """What to recommend, for whom.

    ``candidateIds``: when non-empty, skip recall and rank exactly these items.
    ``exposureList``: items the user saw recently; they are filtered out.
    ``context``: free key/values (device, region, hour, ...) for features.
    """

    userId: str = ""
    scene: str = ""
    count: int = 10
    exposureList: Annotated[list[str], MaxItems(MAX_EXPOSURE)] = field(default_factory=list)
    context: Annotated[dict[str, str], MaxItems(MAX_CONTEXT)] = field(default_factory=dict)
    candidateIds: Annotated[list[str], MaxItems(MAX_CANDIDATES)] = field(default_factory=list)
    debug: bool = False


@dataclass
class RecommendItem(JavaObject, java_class="org.dubborecsys.api.RecommendItem"):
    """One recommended item; ``channel`` names the recall channel(s), joined by ``+``."""

    itemId: str = ""
    score: float = 0.0
    channel: str = ""


@dataclass
class RecommendResponse(JavaObject, java_class="org.dubborecsys.api.RecommendResponse"):
    """The answer. ``code`` 200 = success; ``pipeline`` says which pipeline answered
    (``full``, ``light`` or ``popular``) and ``degraded`` is true unless it was ``full``.
    ``debugInfo`` (only when the request asked for debug) maps stage name to a JSON
    document of that stage's candidates, scores and timing."""

    code: int = 200
    message: str = "ok"
    requestId: str = ""
    items: list[RecommendItem] = field(default_factory=list)
    degraded: bool = False
    pipeline: str = "full"
    debugInfo: dict[str, str] | None = None


def request_problem(request: object) -> str:
    """What makes ``request`` unanswerable (for a code-400 answer), or ``""`` when it is fine.

    The one rule every recommender applies, so a caller gets the same answer whichever
    pipeline (or the popularity list) serves it. Sizes are checked before contents, so
    refusing a huge request costs no more than a small one."""
    if not isinstance(request, RecommendRequest):
        return "expected a RecommendRequest"
    if not request.userId or not isinstance(request.userId, str):
        return "userId is required"
    if isinstance(request.count, bool) or not isinstance(request.count, int) or not 0 < request.count <= MAX_COUNT:
        shown = f", got {request.count}" if isinstance(request.count, int) and request.count.bit_length() < 64 else ""
        return f"count must be in 1..{MAX_COUNT}{shown}"
    if len(request.userId) > MAX_TEXT or (isinstance(request.scene, str) and len(request.scene) > MAX_TEXT):
        return f"userId and scene take at most {MAX_TEXT} characters"
    # straight-line: this runs on every request, and most carry one short list or none
    if request.candidateIds:
        problem = _entries_problem("candidateIds", request.candidateIds, MAX_CANDIDATES)
        if problem:
            return problem
    if request.exposureList:
        problem = _entries_problem("exposureList", request.exposureList, MAX_EXPOSURE)
        if problem:
            return problem
    if request.context:
        problem = _entries_problem("context", request.context, MAX_CONTEXT)
        if problem or _longest(request.context.values()) <= MAX_TEXT:
            return problem
        return f"context: a value of {_longest(request.context.values())} characters; at most {MAX_TEXT} are accepted"
    return ""


def _entries_problem(name: str, entries: Sized, most: int) -> str:
    """Too many entries, or one too long (a dict's keys count here, its values at the caller)."""
    if len(entries) > most:
        return f"{name} has {len(entries)} entries; at most {most} are accepted"
    longest = _longest(entries)  # type: ignore[arg-type]  # Sized entries are iterable here
    if longest > MAX_TEXT:
        return f"{name}: an entry of {longest} characters; at most {MAX_TEXT} are accepted"
    return ""


def _longest(texts: Iterable[object] | None) -> int:
    """The length of the longest string among ``texts`` (0 for none; non-strings do not count)."""
    if not texts:
        return 0
    try:
        return max(map(len, texts))  # type: ignore[arg-type]  # all strings: the usual case, at C speed
    except TypeError:
        return max((len(t) for t in texts if isinstance(t, str)), default=0)
