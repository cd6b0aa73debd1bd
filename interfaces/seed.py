"""The seed system's contract, unchanged: ``com.loki.www.infer.DubbogoInferService``.

Java code written against the Go system (see ``shared/reference/SEED-SYSTEM.md``)
calls ``RecommenderInfer(RecRequest) -> RecResponse``; ``recommenderInfer`` is
accepted too. ``RecResponse.data`` carries one ``"<itemId>:<score>"`` string per
item, best first; ``code`` 200 = success, 400 = bad request, 500 = failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from dubbo_recsys.interfaces.recommend import MAX_EXPOSURE
from hessian2 import JavaObject, Long, MaxItems

INTERFACE = "com.loki.www.infer.DubbogoInferService"
VERSION = ""


@dataclass
class RecRequest(JavaObject, java_class="com.loki.www.infer.RecRequest"):
    """``userId`` and ``dataId`` (the scene's config dataId) are required."""

    userId: str = ""
    dataId: str = ""
    groupId: str = ""
    namespaceId: str = ""
    exposureList: Annotated[list[str], MaxItems(MAX_EXPOSURE)] = field(default_factory=list)


@dataclass
class RecResponse(JavaObject, java_class="com.loki.www.infer.RecResponse"):
    code: Long = Long(200)
    message: str = "ok"
    data: list[str] = field(default_factory=list)
