"""The realtime event contract: user events and item events, JSON on the wire (no I/O).

What a producer in any language writes, one JSON object per Kafka record or Redis
stream entry (``interfaces/events.schema.json`` is the same contract as a JSON
Schema; ``tests/interfaces`` checks that both accept and refuse the same documents)::

    user event   {"eventId": "e-1", "userId": "196", "itemId": "242", "action": "click",
                  "value": 1.0, "ts": 1733400000000, "scene": "home", "requestId": "r-9"}
    item event   {"eventId": "e-2", "itemId": "9001", "op": "upsert", "ts": 1733400000000,
                  "item": {"category": "Comedy", "categories": ["Comedy"], "author": "", "region": "",
                           "attrs": {"year": "2025"}}}
                 {"eventId": "e-3", "itemId": "9001", "op": "remove", "ts": 1733400005000}

``eventId`` is the producer's idempotency key (the same id applied twice changes
nothing); ``ts`` is when it happened, epoch milliseconds. User events and item
events travel on separate topics (or streams), so a document needs no type field:
the consumer decodes each topic as the kind it was configured with. Optional
fields: ``value`` (default 1.0: a rating, seconds played, an amount), ``scene``
and ``requestId`` (default ""). Unknown extra fields are ignored, so producers can
add fields before consumers know them; an unknown ``action`` or ``op`` is refused.

Parsing is orjson's when it is installed (strict JSON: no NaN, valid UTF-8, numbers that
fit a double), else the standard library's with the same refusals. Every refusal is an
``EventError`` with a ``reason`` from a small closed set (``EventErrorReason``: what the
dead-letter stream and the metrics are labelled with) and a message saying where
(``- at $.ts``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_ID_LENGTH",
    "Action",
    "EventError",
    "EventErrorReason",
    "ItemEvent",
    "ItemOp",
    "UserEvent",
    "decode_item_event",
    "decode_user_event",
    "encode_event",
]

MAX_EVENT_BYTES = 64 * 1024  # a user event is ~200 bytes; an item event with its attributes a few KB
MAX_ID_LENGTH = 256
MAX_TS = (1 << 53) - 1  # exact in a double: what a JavaScript or Lua reader can hold
MAX_NUMBER = 1e308  # value and popularity: finite doubles (the schema says so too)


class Action(enum.Enum):
    """What a user did to an item."""

    CLICK = "click"
    PLAY = "play"
    RATE = "rate"
    PURCHASE = "purchase"
    EXPOSURE = "exposure"  # the item was shown
    DISLIKE = "dislike"


class ItemOp(enum.Enum):
    UPSERT = "upsert"  # a new item, or new features of a known one
    REMOVE = "remove"  # never serve it again


class EventErrorReason(enum.Enum):
    """Why an event was refused; the label of the dead-letter entry and of the metric."""

    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    TOO_LARGE = "too_large"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_OP = "unknown_op"
    TS_OUT_OF_RANGE = "ts_out_of_range"


class EventError(ValueError):
    """A document that is not an event of the expected kind; ``reason`` says which rule it broke."""

    def __init__(self, reason: EventErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UserEvent:
    event_id: str
    user_id: str
    item_id: str
    action: Action
    ts: int  # epoch milliseconds
    value: float = 1.0
    scene: str = ""
    request_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "userId": self.user_id,
            "itemId": self.item_id,
            "action": self.action.value,
            "value": self.value,
            "ts": self.ts,
            "scene": self.scene,
            "requestId": self.request_id,
        }


@dataclass(frozen=True, slots=True)
class ItemEvent:
    """``features`` holds the item's fields for ``UPSERT`` (the ``features/items.jsonl`` record
    without ``id``); it is empty for ``REMOVE``."""

    event_id: str
    item_id: str
    op: ItemOp
    ts: int
    features: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"eventId": self.event_id, "itemId": self.item_id, "op": self.op.value}
        document["ts"] = self.ts
        if self.op is ItemOp.UPSERT:
            document["item"] = dict(self.features)
        return document


def encode_event(event: UserEvent | ItemEvent) -> bytes:
    """Compact UTF-8 JSON, as a producer in another language would write it."""
    return json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


# --- decoding ----------------------------------------------------------------------------------------

_ACTIONS = {a.value: a for a in Action}
_OPS = {o.value: o for o in ItemOp}
_ITEM_STRINGS = ("category", "author", "region")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json would read NaN and Infinity


def _stdlib_loads(data: bytes | bytearray | memoryview | str) -> Any:
    return json.loads(bytes(data) if isinstance(data, memoryview) else data, parse_constant=_no_constant)


_loads: Callable[[Any], Any]
try:  # orjson parses a user event in ~1 us against ~5-8 us for json (the consumer's largest cost per event)
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - the kafka extra installs orjson
    _loads = _stdlib_loads


def _document(data: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    if len(data) > MAX_EVENT_BYTES:
        raise EventError(EventErrorReason.TOO_LARGE, f"event of {len(data)} bytes, the limit is {MAX_EVENT_BYTES}")
    try:
        document = _loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EventError(EventErrorReason.NOT_JSON, f"not JSON: {exc}") from None
    if type(document) is not dict:
        raise EventError(EventErrorReason.NOT_OBJECT, f"an event must be a JSON object, got {type(document).__name__}")
    return document


def _id(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if value is None:
        raise EventError(EventErrorReason.MISSING_FIELD, f"missing {name} - at $.{name}")
    if type(value) is not str or not 0 < len(value) <= MAX_ID_LENGTH:
        raise EventError(
            EventErrorReason.BAD_FIELD, f"{name} must be a string of 1..{MAX_ID_LENGTH} characters - at $.{name}"
        )
    return value


def _text(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name, "")
    if value is None:
        return ""
    if type(value) is not str or len(value) > MAX_ID_LENGTH:
        raise EventError(
            EventErrorReason.BAD_FIELD, f"{name} must be a string of at most {MAX_ID_LENGTH} characters - at $.{name}"
        )
    return value


def _ts(document: Mapping[str, Any]) -> int:
    value = document.get("ts")
    if value is None:
        raise EventError(EventErrorReason.MISSING_FIELD, "missing ts - at $.ts")
    if type(value) is float and value.is_integer():
        value = int(value)  # 1.7e12 from a producer that only has doubles
    if type(value) is not int:
        raise EventError(EventErrorReason.BAD_FIELD, "ts must be an integer of epoch milliseconds - at $.ts")
    if not 0 < value <= MAX_TS:
        raise EventError(EventErrorReason.TS_OUT_OF_RANGE, f"ts {value} is not in 1..2^53-1 - at $.ts")
    return value


def decode_user_event(data: bytes | bytearray | memoryview | str) -> UserEvent:
    """One user event, validated; ``EventError`` otherwise."""
    document = _document(data)
    action_name = document.get("action")
    if action_name is None:
        raise EventError(EventErrorReason.MISSING_FIELD, "missing action - at $.action")
    action = _ACTIONS.get(action_name) if type(action_name) is str else None
    if action is None:
        raise EventError(
            EventErrorReason.UNKNOWN_ACTION, f"action {action_name!r} is not one of {sorted(_ACTIONS)} - at $.action"
        )
    value = _number(document.get("value"), 1.0, "value")
    return UserEvent(
        event_id=_id(document, "eventId"),
        user_id=_id(document, "userId"),
        item_id=_id(document, "itemId"),
        action=action,
        ts=_ts(document),
        value=value,
        scene=_text(document, "scene"),
        request_id=_text(document, "requestId"),
    )


def decode_item_event(data: bytes | bytearray | memoryview | str) -> ItemEvent:
    """One item event, validated (an upsert's features follow ``features/items.jsonl``)."""
    document = _document(data)
    op_name = document.get("op")
    if op_name is None:
        raise EventError(EventErrorReason.MISSING_FIELD, "missing op - at $.op")
    op = _OPS.get(op_name) if type(op_name) is str else None
    if op is None:
        raise EventError(EventErrorReason.UNKNOWN_OP, f"op {op_name!r} is not one of {sorted(_OPS)} - at $.op")
    event_id, item_id, ts = _id(document, "eventId"), _id(document, "itemId"), _ts(document)
    item = document.get("item")
    if item is None:
        if op is ItemOp.UPSERT:
            raise EventError(EventErrorReason.MISSING_FIELD, "an upsert needs item - at $.item")
        return ItemEvent(event_id, item_id, op, ts)
    features = _item_features(item)  # checked for a removal too: the schema does
    return ItemEvent(event_id, item_id, op, ts, features if op is ItemOp.UPSERT else {})


def _number(value: Any, default: float, where: str, *, allow_null: bool = True) -> float:
    if value is None and allow_null:
        return default
    if type(value) in (int, float) and -MAX_NUMBER <= value <= MAX_NUMBER:
        return float(value)
    raise EventError(EventErrorReason.BAD_FIELD, f"{where} must be a number in [-1e308, 1e308] - at $.{where}")


def _item_features(item: Any) -> dict[str, Any]:
    if type(item) is not dict:
        raise EventError(EventErrorReason.BAD_FIELD, "item must be an object - at $.item")
    out: dict[str, Any] = {}
    for name in _ITEM_STRINGS:
        value = item.get(name, "")
        if type(value) is not str:
            raise EventError(EventErrorReason.BAD_FIELD, f"{name} must be a string - at $.item.{name}")
        out[name] = value
    categories = item.get("categories", [])
    if type(categories) is not list or not all(type(c) is str for c in categories):
        raise EventError(EventErrorReason.BAD_FIELD, "categories must be a list of strings - at $.item.categories")
    out["categories"] = list(categories)
    out["popularity"] = _number(item.get("popularity", 0.0), 0.0, "item.popularity", allow_null=False)
    attrs = item.get("attrs", {})
    if type(attrs) is not dict or not all(type(v) is str for v in attrs.values()):
        raise EventError(EventErrorReason.BAD_FIELD, "attrs must map strings to strings - at $.item.attrs")
    out["attrs"] = dict(attrs)
    return out
