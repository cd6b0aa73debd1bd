from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecommendRequest(_message.Message):
    __slots__ = ("user_id", "scene", "count", "exposure_list", "context", "candidate_ids", "debug")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_LIST_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_IDS_FIELD_NUMBER: _ClassVar[int]
    DEBUG_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    scene: str
    count: int
    exposure_list: _containers.RepeatedScalarFieldContainer[str]
    context: _containers.ScalarMap[str, str]
    candidate_ids: _containers.RepeatedScalarFieldContainer[str]
    debug: bool
    def __init__(self, user_id: _Optional[str] = ..., scene: _Optional[str] = ..., count: _Optional[int] = ..., exposure_list: _Optional[_Iterable[str]] = ..., context: _Optional[_Mapping[str, str]] = ..., candidate_ids: _Optional[_Iterable[str]] = ..., debug: bool = ...) -> None: ...

class RecommendItem(_message.Message):
    __slots__ = ("item_id", "score", "channel")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    channel: str
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., channel: _Optional[str] = ...) -> None: ...

class RecommendResponse(_message.Message):
    __slots__ = ("code", "message", "request_id", "items", "degraded", "pipeline", "debug_info")
    class DebugInfoEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    DEBUG_INFO_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    request_id: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendItem]
    degraded: bool
    pipeline: str
    debug_info: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., request_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendItem, _Mapping]]] = ..., degraded: bool = ..., pipeline: _Optional[str] = ..., debug_info: _Optional[_Mapping[str, str]] = ...) -> None: ...
