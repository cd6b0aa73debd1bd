"""The JSON shapes of the REST shim, as pydantic models (they are also the OpenAPI schemas).

Request models forbid unknown fields and bound every size, so a wrong body is a 422
whose ``detail[].loc`` says where (``["body", "count"]``) before anything reaches the
recommender. ``RecommendBody`` mirrors ``interfaces.recommend.RecommendRequest``
field for field (camelCase, as Java spells them); ``InferBody``/``InferAnswer`` are
the seed system's ``RecRequest``/``RecResponse``. Conversion to and from our
dataclasses lives here too, and nothing else does.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from dubbo_recsys.interfaces.recommend import (
    MAX_CANDIDATES,
    MAX_CONTEXT,
    MAX_COUNT,
    MAX_EXPOSURE,
    MAX_TEXT,
    RecommendRequest,
    RecommendResponse,
)

__all__ = [
    "MAX_COUNT",
    "ErrorAnswer",
    "InferAnswer",
    "InferBody",
    "ItemOut",
    "LoginBody",
    "RecommendAnswer",
    "RecommendBody",
    "StageExplain",
    "TokenAnswer",
    "explain_of",
]

# the bounds every protocol applies (interfaces.recommend), here checked by pydantic before the call
_Id = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
_Text = Annotated[str, Field(max_length=MAX_TEXT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class RecommendBody(_Strict):
    """What to recommend, for whom (``org.dubborecsys.api.RecommendRequest``)."""

    userId: _Id
    scene: _Text = ""
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] = 10
    exposureList: Annotated[list[_Text], Field(max_length=MAX_EXPOSURE)] = []
    context: Annotated[dict[_Text, _Text], Field(max_length=MAX_CONTEXT)] = {}
    candidateIds: Annotated[list[_Id], Field(max_length=MAX_CANDIDATES)] = []
    debug: bool = False

    def to_request(self, explain: bool = False) -> RecommendRequest:
        return RecommendRequest(
            userId=self.userId,
            scene=self.scene,
            count=self.count,
            exposureList=list(self.exposureList),
            context=dict(self.context),
            candidateIds=list(self.candidateIds),
            debug=self.debug or explain,
        )


class ItemOut(BaseModel):
    itemId: str
    score: float
    channel: str = ""


class StageExplain(BaseModel):
    """One pipeline stage as explain mode shows it: candidates in and out, its top scores, its time."""

    stage: str
    kind: str = ""
    millis: float | None = None
    candidatesIn: int | None = None
    candidatesOut: int | None = None
    top: list[ItemOut] = []
    detail: dict[str, Any] = {}


class RecommendAnswer(BaseModel):
    """``org.dubborecsys.api.RecommendResponse``; ``explain`` only in explain mode."""

    code: int
    message: str
    requestId: str
    items: list[ItemOut]
    degraded: bool
    pipeline: str
    explain: list[StageExplain] | None = None
    failures: list[str] | None = None

    @classmethod
    def of(cls, response: RecommendResponse, explain: bool) -> RecommendAnswer:
        stages, failures = explain_of(response.debugInfo) if explain else (None, None)
        return cls(
            code=response.code,
            message=response.message,
            requestId=response.requestId,
            items=[ItemOut(itemId=i.itemId, score=i.score, channel=i.channel) for i in response.items],
            degraded=response.degraded,
            pipeline=response.pipeline,
            explain=stages,
            failures=failures,
        )


def explain_of(debug_info: dict[str, str] | None) -> tuple[list[StageExplain], list[str]]:
    """Stage traces (``StageTrace.as_json`` documents) and failures out of ``debugInfo``.

    Entries that are not stage traces are kept as ``detail`` of a stage of that name,
    so a recommender's free-form debug notes are shown, not dropped.
    """
    stages: list[StageExplain] = []
    failures: list[str] = []
    for name, text in (debug_info or {}).items():
        try:
            document = json.loads(text)
        except (TypeError, ValueError):
            document = {"text": text}
        if name == "failures" and isinstance(document, list):
            failures = [str(f) for f in document]
            continue
        if not isinstance(document, dict):
            document = {"value": document}
        if isinstance(document.get("millis"), (int, float)):
            top = [
                ItemOut(itemId=str(t.get("itemId", "")), score=float(t.get("score", 0.0)))
                for t in document.get("top", [])
                if isinstance(t, dict)
            ]
            stages.append(
                StageExplain(
                    stage=name,
                    kind=str(document.get("kind", "")),
                    millis=float(document["millis"]),
                    candidatesIn=document.get("in"),
                    candidatesOut=document.get("out"),
                    top=top,
                )
            )
        else:
            stages.append(StageExplain(stage=name, detail=document))
    return stages, failures


class InferBody(_Strict):
    """The seed's ``RecRequest``: ``userId`` and ``dataId`` (the scene) are required."""

    userId: _Id
    dataId: _Id
    groupId: _Text = ""
    namespaceId: _Text = ""
    exposureList: Annotated[list[_Text], Field(max_length=MAX_EXPOSURE)] = []


class InferAnswer(BaseModel):
    """The seed's ``RecResponse``: ``data`` holds ``"<itemId>:<score>"`` per item, best first."""

    code: int
    message: str
    data: list[str]


class LoginBody(_Strict):
    username: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ErrorAnswer(BaseModel):
    """Every 4xx/5xx the shim itself writes (422s use FastAPI's list of ``{loc, msg, type}``)."""

    detail: str
