"""The public facade: ``__all__`` is exactly what the package promises, and each name works."""

from __future__ import annotations

import hessian2

PUBLIC = {
    "dumps",
    "loads",
    "MEMORY_RATIO",
    "MEMORY_ALLOWANCE",
    "Encoder",
    "Decoder",
    "JavaObject",
    "JavaEnum",
    "JavaGenericObject",
    "bound_classes",
    "describe",
    "Long",
    "Int",
    "Short",
    "Byte",
    "Float",
    "Double",
    "Char",
    "TypedList",
    "TypedMap",
    "MapEntries",
    "MaxItems",
    "LocalDateTime",
    "Instant",
    "JavaException",
    "StackTraceElement",
    "IllegalArgumentException",
    "IllegalStateException",
    "NullPointerException",
    "UnsupportedOperationException",
    "typed_writer",
    "to_generic",
    "from_generic",
    "Hessian2Error",
    "DecodeError",
    "EncodeError",
}


def test_all_is_the_public_api():
    assert set(hessian2.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(hessian2, name) is not None


def test_error_tree():
    assert issubclass(hessian2.DecodeError, hessian2.Hessian2Error)
    assert issubclass(hessian2.EncodeError, hessian2.Hessian2Error)
    assert issubclass(hessian2.Hessian2Error, ValueError)
    error = hessian2.DecodeError("bad", 7)
    assert error.offset == 7 and error.reason == "bad" and "offset 7" in str(error)


def test_the_contracts_bind_their_classes():
    from dubbo_recsys.interfaces.recommend import RecommendResponse
    from dubbo_recsys.interfaces.seed import RecResponse

    bound = hessian2.bound_classes()
    assert bound["org.dubborecsys.api.RecommendResponse"] is RecommendResponse
    assert bound["com.loki.www.infer.RecResponse"] is RecResponse
    # RecResponse.code is a Java long
    assert hessian2.dumps(RecResponse(code=hessian2.Long(200))).count(b"\xf8\xc8") == 1


def test_long_is_an_int_that_keeps_its_width():
    value = hessian2.loads(hessian2.dumps(hessian2.Long(5)))
    assert value == 5 and isinstance(value, int) and type(value) is hessian2.Long
    assert hessian2.dumps([hessian2.Long(5), 5]) == b"\x7a\xe5\x95"
