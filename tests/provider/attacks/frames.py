"""Request frames, built once, for the good consumer and the attackers.

The served process is ``dubbo-recsys serve`` on its popularity recommender, so the
answers are known: ``recommend`` for ``count`` items returns ``item-0001``.. in order,
and ``$echo`` returns its argument. ``new_name_request(i, size)`` builds a request that
names things the server has never seen (a class, its fields, ``$invoke`` parameter types,
a dubbo version string, a parameter descriptor), each about ``size`` bytes, so a server that
keeps caller-named things per request grows with every one.
"""

from __future__ import annotations

import struct

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.body import encode_invocation
from dubbo_recsys.provider.dispatch import GENERIC_DESCRIPTOR, Invocation
from dubbo_recsys.provider.protocol import (
    DEFAULT_PAYLOAD_LIMIT,
    HEADER_LENGTH,
    MAGIC,
    encode_heartbeat_request,
    encode_request,
)
from hessian2 import JavaGenericObject

RECOMMEND_SERVICE = "org.dubborecsys.api.RecommendService"
SEED_SERVICE = "com.loki.www.infer.DubbogoInferService"
RECOMMEND_DESCRIPTOR = "Lorg/dubborecsys/api/RecommendRequest;"
ATTACHMENTS = {"path": RECOMMEND_SERVICE, "interface": RECOMMEND_SERVICE, "version": "1.0.0", "timeout": "5000"}


def recommend_request(request_id: int, user: str = "good", count: int = 10) -> bytes:
    invocation = Invocation(
        "2.0.2",
        RECOMMEND_SERVICE,
        "1.0.0",
        "recommend",
        RECOMMEND_DESCRIPTOR,
        (RecommendRequest(userId=user, scene="home", count=count),),
        ATTACHMENTS,
    )
    return encode_request(request_id, encode_invocation(invocation))


def large_recommend_request(request_id: int, candidates: int) -> bytes:
    """A well-formed ``recommend`` carrying ``candidates`` candidate ids: far past what the contract
    takes (``MaxItems``), so it is refused when the list's length is read."""
    ids = [f"c{i}" for i in range(candidates)]
    request = RecommendRequest(userId="large", scene="home", count=10, candidateIds=ids)
    invocation = Invocation(
        "2.0.2", RECOMMEND_SERVICE, "1.0.0", "recommend", RECOMMEND_DESCRIPTOR, (request,), ATTACHMENTS
    )
    return encode_request(request_id, encode_invocation(invocation))


def echo_request(request_id: int, value: object) -> bytes:
    invocation = Invocation("2.0.2", SEED_SERVICE, "", "$echo", "Ljava/lang/Object;", (value,), {"path": SEED_SERVICE})
    return encode_request(request_id, encode_invocation(invocation))


def heartbeat(request_id: int) -> bytes:
    return encode_heartbeat_request(request_id)


def with_request_id(frame: bytes, request_id: int) -> bytes:
    """The same frame under another request id (the id is bytes 4..11 of the header)."""
    return frame[:4] + struct.pack(">q", request_id) + frame[12:]


def new_name_request(index: int, size: int = 4096) -> list[bytes]:
    """Requests each naming never-seen things of about ``size`` bytes (see the module doc)."""
    tag = f"{index:08d}"
    pad = "x" * max(size - 40, 1)
    name = f"com.attack.C{tag}{pad}"
    fields = {f"f{tag}{pad}{k}": k for k in range(3)}
    pojo = JavaGenericObject(name, dict(fields))
    frames = []
    # a typed call carrying an object of an unknown class with unknown field names
    frames.append(
        _frame(
            index,
            Invocation("2.0.2", RECOMMEND_SERVICE, "1.0.0", "recommend", RECOMMEND_DESCRIPTOR, (pojo,), ATTACHMENTS),
        )
    )
    # a generic call naming unknown parameter types
    types = [f"com.attack.T{tag}{pad}", f"com.attack.T{tag}{pad}[]"]
    frames.append(
        _frame(
            index,
            Invocation(
                "2.0.2",
                RECOMMEND_SERVICE,
                "1.0.0",
                "$invoke",
                GENERIC_DESCRIPTOR,
                ("recommend", types, [pojo, []]),
                {**ATTACHMENTS, "generic": "true"},
            ),
        )
    )
    # a dubbo version string never seen, including 5,005 digits that Python's int() refuses to convert
    version = ("9" * 5005) if index % 2 else f"2.0.{tag}{'9' * max(size - 20, 1)}"
    frames.append(
        _frame(
            index, Invocation(version, SEED_SERVICE, "", "$echo", "Ljava/lang/Object;", (1,), {"path": SEED_SERVICE})
        )
    )
    # a parameter descriptor never seen (an unknown overload)
    descriptor = f"Lcom/attack/D{tag}{pad};"
    frames.append(
        _frame(index, Invocation("2.0.2", RECOMMEND_SERVICE, "1.0.0", "recommend", descriptor, (None,), ATTACHMENTS))
    )
    return frames


def _frame(request_id: int, invocation: Invocation) -> bytes:
    return encode_request(request_id, encode_invocation(invocation))


def garbage_body_request(request_id: int, body: bytes) -> bytes:
    """A well-framed request whose body is not a valid invocation (answered with status 40)."""
    return struct.pack(">HBBqi", MAGIC, 0xC2, 0, request_id, len(body)) + body


def oversize_header(request_id: int, length: int = DEFAULT_PAYLOAD_LIMIT + 1) -> bytes:
    """A request header claiming ``length`` body bytes (more than the payload limit: status 25)."""
    return struct.pack(">HBBqi", MAGIC, 0xC2, 0, request_id, length)


__all__ = [
    "HEADER_LENGTH",
    "echo_request",
    "garbage_body_request",
    "heartbeat",
    "new_name_request",
    "oversize_header",
    "recommend_request",
    "with_request_id",
]
