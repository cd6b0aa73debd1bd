"""The Redis key layout and the hash slots of its keys (no I/O).

Layout 2 (``prefix`` defaults to ``recsys``)::

    {prefix}:v2:user:{u:<user_id>}               packed user row (msgpack)
    {prefix}:v2:seen:<m>x<k>:{u:<user_id>}       the user's Bloom filter bits (``features.bloom``)
    {prefix}:v2:<kind>:{u:<user_id>}             any other per-user key (``user_key``)
    {prefix}:v2:rt:{u:<user_id>}:<part>          the user's realtime state (``realtime_user``)
    {prefix}:v2:rt:{trend}:..., rt:{live}:..., rt:{stats}:..., ev:{ev:<topic>}:...
                                                 realtime state shared by all users, one slot per kind
    {prefix}:v2:item:{<bucket tag>}:<item_id>    packed item row (msgpack)
    {prefix}:v2:meta                             JSON: which artifact was loaded, when, counts

The braces are Redis Cluster hash tags: a key's slot is CRC16 of the text between its first
``{`` and the next ``}`` (when that text is not empty), modulo 16384. The same keys serve a
single Redis, which ignores the tags, so one load format fits both.

- **Everything about one user shares the tag** ``{u:<user_id>}``: one slot, so one node. A
  user's features, seen filter and realtime keys can be written in one pipeline to one node
  (multi-key commands such as the seen filter's ``BITOP`` with its scratch key are legal),
  and users spread over all 16384 slots.
- **Items are spread over ``ITEM_BUCKETS`` buckets**, by ``crc32(item_id) % ITEM_BUCKETS``, each
  bucket one tag, so one slot. Multi-key commands need all keys in one slot: with a tag per
  item (or none) a 200-item fetch is 200 single-key commands; with buckets it is at most
  ``ITEM_BUCKETS`` MGETs, grouped per node (``features.cluster``). The bucket tags are chosen
  so their slots are evenly spaced (bucket ``b``'s slot lies in the ``b``-th of
  ``ITEM_BUCKETS`` equal slot ranges), so the even slot ranges ``redis-cli --cluster create``
  assigns give every master its share of the catalog (11/11/10 buckets on 3 masters). The
  price: items live on at most ``ITEM_BUCKETS`` masters, and a bucket (1/32 of the catalog)
  is the unit a resharding moves.

``v2`` is the layout version: layout 1 had no tags. A new layout or value format gets a new
segment, so old and new readers never misread each other's keys. The prefix may not contain
braces: a tag in the prefix would put every key in one slot.
"""

from __future__ import annotations

import binascii
import re
import zlib
from dataclasses import dataclass, field

from dubbo_recsys.features.base import FeatureStoreError

FORMAT_VERSION = 2
DEFAULT_PREFIX = "recsys"
SLOTS = 16384
ITEM_BUCKETS = 32
_crc32 = zlib.crc32
_PREFIX_RE = re.compile(r"^[A-Za-z0-9_.\-:]{1,64}$")


def key_slot(key: str | bytes) -> int:
    """Redis Cluster's slot of ``key``: CRC16 (XMODEM) of its hash tag, or of the whole key."""
    data = key.encode("utf-8", "surrogatepass") if isinstance(key, str) else key
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return binascii.crc_hqx(data, 0) % SLOTS


def _bucket_tags(buckets: int) -> tuple[str, ...]:
    """For each bucket ``b`` the first tag ``i<b>:<n>`` (n = 0, 1, ...) whose slot lies in
    ``[b * SLOTS // buckets, (b + 1) * SLOTS // buckets)``. Deterministic: the tags are part
    of the layout, and a test pins some of them."""
    tags = []
    for b in range(buckets):
        low, high = b * SLOTS // buckets, (b + 1) * SLOTS // buckets
        n = 0
        while not low <= key_slot(f"i{b}:{n}") < high:
            n += 1
        tags.append(f"i{b}:{n}")
    return tuple(tags)


ITEM_BUCKET_TAGS = _bucket_tags(ITEM_BUCKETS)
ITEM_BUCKET_SLOTS = tuple(key_slot(tag) for tag in ITEM_BUCKET_TAGS)


def user_tag(user_id: str) -> str:
    """The hash tag every key of this user carries: ``{u:<id>}``. A user id holding a ``}`` still
    gets one slot for all its keys: every key of the user embeds the same text after the same ``{``."""
    return f"{{u:{user_id}}}"


def item_bucket(item_id: str) -> int:
    return _crc32(item_id.encode("utf-8", "surrogatepass")) % ITEM_BUCKETS


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """Builds the Redis keys of one prefix, and their slots; see the module docstring."""

    prefix: str = DEFAULT_PREFIX
    _item_prefixes: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or not _PREFIX_RE.match(self.prefix):
            raise FeatureStoreError(
                f"key prefix {self.prefix!r} must be 1-64 characters of letters, digits and _.-: "
                "(no braces: the keys carry their own Redis Cluster hash tags)"
            )
        prefixes = tuple(f"{self.base}item:{{{tag}}}:" for tag in ITEM_BUCKET_TAGS)
        object.__setattr__(self, "_item_prefixes", prefixes)

    @property
    def base(self) -> str:
        return f"{self.prefix}:v{FORMAT_VERSION}:"

    def user_key(self, kind: str, user_id: str) -> str:
        """A per-user key in the user's slot, e.g. ``user_key("lastn", "42")`` for realtime state."""
        return f"{self.base}{kind}:{{u:{user_id}}}"

    def user(self, user_id: str) -> str:
        return self.user_key("user", user_id)

    def seen(self, user_id: str, bits: int, hashes: int) -> str:
        return self.user_key(f"seen:{bits}x{hashes}", user_id)

    def item(self, item_id: str) -> str:
        return self._item_prefixes[item_bucket(item_id)] + item_id

    def meta(self) -> str:
        return f"{self.base}meta"

    @staticmethod
    def item_slot(item_id: str) -> int:
        """The slot of ``item(item_id)`` without hashing the key (a table lookup per bucket)."""
        return ITEM_BUCKET_SLOTS[item_bucket(item_id)]

    def user_slot(self, user_id: str) -> int:
        return key_slot(self.user(user_id))

    def item_keys(self, item_ids: list[str]) -> tuple[list[str], list[int]]:
        """``item(i)`` and ``item_slot(i)`` for every id, hashing each id once (200 per request:
        about 0.1 ms, most of it the crc32 calls)."""
        try:
            buckets = [_crc32(i.encode()) % ITEM_BUCKETS for i in item_ids]
        except UnicodeEncodeError:  # a lone surrogate: the slow path's error handler keeps it hashable
            buckets = [item_bucket(i) for i in item_ids]
        prefixes = self._item_prefixes
        keys = [prefixes[b] + i for b, i in zip(buckets, item_ids, strict=True)]
        return keys, [ITEM_BUCKET_SLOTS[b] for b in buckets]

    # --- realtime state (written by ``dubbo-recsys consume``, read by ``features.realtime``) ---------

    def realtime_user(self, user_id: str, part: str) -> str:
        """Per-user realtime keys (``last``, ``cnt``, ``ev``, ``evpos``): in the user's slot."""
        return self.user_key("rt", user_id) + f":{part}"

    def trend_bucket(self, bucket: int) -> str:
        """Weighted event counts per item in one time bucket (all buckets share the ``{trend}`` slot)."""
        return f"{self.base}rt:{{trend}}:b:{bucket}"

    def trend_marks(self, bucket: int) -> str:
        """Per source partition, the position of the last event counted into that bucket."""
        return f"{self.base}rt:{{trend}}:w:{bucket}"

    def live(self, part: str) -> str:
        """The live item catalog (``items``, ``ts``, ``log``, ``seq``), one ``{live}`` slot."""
        return f"{self.base}rt:{{live}}:{part}"

    def consumer_stats(self, consumer: str) -> str:
        return f"{self.base}rt:{{stats}}:c:{consumer}"

    def consumers(self) -> str:
        """Consumers that published stats, scored by the time they last did."""
        return f"{self.base}rt:{{stats}}:consumers"

    def stream(self, name: str, partition: int) -> str:
        """A Redis Streams event partition; a topic's partitions share the ``{ev:<name>}`` slot."""
        return f"{self.base}ev:{{ev:{name}}}:{partition}"

    def stream_lease(self, name: str, group: str, partition: int) -> str:
        return f"{self.base}ev:{{ev:{name}}}:lease:{group}:{partition}"

    def stream_members(self, name: str, group: str) -> str:
        return f"{self.base}ev:{{ev:{name}}}:members:{group}"

    # --- batches ----------------------------------------------------------------------------------------

    def user_keys(self, user_ids: list[str]) -> tuple[list[str], list[int]]:
        keys = [self.user(u) for u in user_ids]
        return keys, [key_slot(k) for k in keys]
