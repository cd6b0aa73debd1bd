from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StringList(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, value: _Optional[_Iterable[str]] = ...) -> None: ...

class ItemInfo(_message.Message):
    __slots__ = ("itemid", "score")
    ITEMID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    itemid: str
    score: float
    def __init__(self, itemid: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class ItemInfoList(_message.Message):
    __slots__ = ("iteminfo_",)
    ITEMINFO__FIELD_NUMBER: _ClassVar[int]
    iteminfo_: _containers.RepeatedCompositeFieldContainer[ItemInfo]
    def __init__(self, iteminfo_: _Optional[_Iterable[_Union[ItemInfo, _Mapping]]] = ...) -> None: ...

class RecommendRequest(_message.Message):
    __slots__ = ("DataId", "GroupId", "Namespace", "ModelType", "UserId", "RecallNum", "ItemList")
    DATAID_FIELD_NUMBER: _ClassVar[int]
    GROUPID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    MODELTYPE_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    RECALLNUM_FIELD_NUMBER: _ClassVar[int]
    ITEMLIST_FIELD_NUMBER: _ClassVar[int]
    DataId: str
    GroupId: str
    Namespace: str
    ModelType: str
    UserId: str
    RecallNum: int
    ItemList: StringList
    def __init__(self, DataId: _Optional[str] = ..., GroupId: _Optional[str] = ..., Namespace: _Optional[str] = ..., ModelType: _Optional[str] = ..., UserId: _Optional[str] = ..., RecallNum: _Optional[int] = ..., ItemList: _Optional[_Union[StringList, _Mapping]] = ...) -> None: ...

class RecommendResponse(_message.Message):
    __slots__ = ("Code", "Message", "Data")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    Code: int
    Message: str
    Data: ItemInfoList
    def __init__(self, Code: _Optional[int] = ..., Message: _Optional[str] = ..., Data: _Optional[_Union[ItemInfoList, _Mapping]] = ...) -> None: ...
