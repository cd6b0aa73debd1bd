"""The two recommend services as grpc handlers, each a thin adapter onto one ``Recommender``.

A call reads top to bottom: decode the bytes (undecodable bytes get the status
INVALID_ARGUMENT, where grpc's own decoding would answer UNKNOWN and log a
traceback), translate the request (a shape error answers 400), await the
recommender, translate the answer. A recommender that raises, or that
returns something the proto cannot carry, answers 500 and is logged with its
traceback; the server and the other calls carry on. Cancellation (the client's
deadline passed or it hung up) is left to propagate, so grpc.aio stops the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommender_infer_pb2 as seed_pb2
from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.provider.grpc_shim import translate
from dubbo_recsys.provider.grpc_shim.errors import RequestShapeError

log = logging.getLogger(__name__)

WireRequest = TypeVar("WireRequest", bound=Message)
WireResponse = TypeVar("WireResponse")

# Full service names, as health checking and reflection know them.
SEED_SERVICE = seed_pb2.DESCRIPTOR.services_by_name["RecommenderInferService"].full_name
V1_SERVICE = v1_pb2.DESCRIPTOR.services_by_name["RecommendService"].full_name


async def _decode(
    message_type: type[WireRequest], data: bytes, context: grpc.aio.ServicerContext[bytes, Message]
) -> WireRequest:
    try:
        return message_type.FromString(data)
    except DecodeError as error:
        name = message_type.DESCRIPTOR.full_name
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"cannot decode {name}: {error}")
        raise  # not reached: abort raises


async def _answer(
    recommender: Recommender,
    wire_request: WireRequest,
    to_request: Callable[[WireRequest], RecommendRequest],
    to_wire: Callable[[RecommendResponse], WireResponse],
    service: str,
) -> WireResponse:
    try:
        request = to_request(wire_request)
    except RequestShapeError as error:
        return to_wire(translate.rejection(400, str(error)))
    try:
        response = await recommender.recommend(request)
    except Exception as error:  # the recommender broke its promise not to raise
        log.exception("%s: recommender raised", service)
        return to_wire(translate.rejection(500, f"recommender failed: {type(error).__name__}"))
    try:
        return to_wire(response)
    except Exception as error:
        log.exception("%s: recommender answer cannot be encoded", service)
        return to_wire(translate.rejection(500, f"invalid recommender answer: {error}"))


def _unary_handler(
    service: str,
    method: str,
    request_type: type[WireRequest],
    to_request: Callable[[WireRequest], RecommendRequest],
    to_wire: Callable[[RecommendResponse], Message],
    recommender: Recommender,
) -> grpc.GenericRpcHandler:
    """One unary method taking raw bytes, so decoding errors are ours to report."""

    async def handle(data: bytes, context: grpc.aio.ServicerContext[bytes, Message]) -> Message:
        request = await _decode(request_type, data, context)
        return await _answer(recommender, request, to_request, to_wire, service)

    rpc: grpc.RpcMethodHandler[bytes, Message] = grpc.unary_unary_rpc_method_handler(
        handle, response_serializer=lambda m: m.SerializeToString()
    )
    return grpc.method_handlers_generic_handler(service, {method: rpc})


def seed_handler(recommender: Recommender) -> grpc.GenericRpcHandler:
    """``/RecommenderInferService/RecommenderInfer``: the seed system's contract."""
    return _unary_handler(
        SEED_SERVICE,
        "RecommenderInfer",
        seed_pb2.RecommendRequest,
        translate.seed_to_request,
        translate.response_to_seed,
        recommender,
    )


def v1_handler(recommender: Recommender) -> grpc.GenericRpcHandler:
    """``/dubborecsys.v1.RecommendService/Recommend``: our own contract."""
    return _unary_handler(
        V1_SERVICE,
        "Recommend",
        v1_pb2.RecommendRequest,
        translate.v1_to_request,
        translate.response_to_v1,
        recommender,
    )
