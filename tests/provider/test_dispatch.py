"""Routing, built-ins, argument checks, results typed by the return hint, and failure answers, without bytes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from dubbo_recsys.provider.contract import export_of
from dubbo_recsys.provider.dispatch import (
    GENERIC_DESCRIPTOR,
    GENERIC_EXCEPTION,
    RUNTIME_EXCEPTION,
    Dispatcher,
    Invocation,
    Raised,
    Refused,
    Returned,
)
from dubbo_recsys.provider.errors import ServiceSpecError
from dubbo_recsys.provider.protocol import Status
from dubbo_recsys.provider.service import Service, java_method
from hessian2 import Encoder, IllegalStateException, JavaException, JavaGenericObject, JavaObject, Long, dumps
from tests.provider.contract_sample import BadName, Color, Node, NotFound, Sample


@dataclass
class Query(JavaObject, java_class="org.example.Query"):
    text: str = ""
    limit: int = 10
    tags: list[str] = field(default_factory=list)


@dataclass
class Hits(JavaObject, java_class="org.example.Hits"):
    items: list[str] = field(default_factory=list)


class Search(Service, interface="org.example.SearchService", version="2.0.0", group="g1"):
    async def search(self, query: Query) -> Hits:
        return Hits([f"{query.text}-{i}" for i in range(query.limit)])

    def add(self, a: int, b: int) -> int:
        return a + b

    @java_method("add")
    def add3(self, a: int, b: int, c: int) -> int:
        return a + b + c

    def boom(self) -> None:
        raise KeyError("no such thing")

    def refuse(self) -> None:
        try:
            raise ValueError("secret internals")
        except ValueError as exc:
            raise IllegalStateException("not now") from exc


DISPATCHER = Dispatcher([export_of(Search()), export_of(Sample())])


def call(method, descriptor, args, version="2.0.0", group="g1", path="org.example.SearchService"):
    attachments = {"group": group} if group else {}
    inv = Invocation("2.0.2", path, version, method, descriptor, tuple(args), attachments, request_id=7)
    return asyncio.run(DISPATCHER.dispatch(inv))


def call_sample(method, descriptor, args):
    return call(method, descriptor, args, "1.0.0", "g", "org.dubborecsys.test.contract.SampleService")


def test_typed_call_with_bound_object():
    assert call("search", "Lorg/example/Query;", [Query("a", 2)]) == Returned(Hits(["a-0", "a-1"]))


def test_typed_call_with_map_argument_is_realized():
    assert call("search", "Lorg/example/Query;", [{"text": "b", "limit": 1}]) == Returned(Hits(["b-0"]))


def test_overloads_by_descriptor():
    assert call("add", "II", [1, 2]) == Returned(3)
    assert call("add", "III", [1, 2, 3]) == Returned(6)
    assert call_sample("get", "J", [Long(5)]).value.name == "n5"
    assert call_sample("get", "Ljava/lang/String;", ["x"]).value.name == "x"
    assert call_sample("lookup", "J", [Long(6)]).value.name == "n6"


def test_echo():
    assert call("$echo", "Ljava/lang/Object;", [{"x": 1}]) == Returned({"x": 1})


def test_route_needs_version_and_group():
    outcome = call("add", "II", [1, 2], version="0.0.0")
    assert isinstance(outcome, Refused) and outcome.status == Status.SERVICE_NOT_FOUND
    assert "g1/org.example.SearchService:2.0.0" in outcome.message
    assert call("add", "II", [1, 2], group="").status == Status.SERVICE_NOT_FOUND
    assert call("add", "II", [1, 2], path="org.example.Nope").status == Status.SERVICE_NOT_FOUND


def test_unknown_method_and_overload():
    outcome = call("nope", "", [])
    assert outcome.status == Status.SERVICE_ERROR and "methods: search,add,boom,refuse" in outcome.message
    outcome = call("add", "J", [1])
    assert outcome.status == Status.SERVICE_ERROR and "'II'" in outcome.message


def _refused_argument(outcome: Any) -> str:
    assert isinstance(outcome, Raised) and outcome.java_class == "java.lang.IllegalArgumentException", outcome
    return outcome.message


@pytest.mark.parametrize(
    "args, message",
    [
        ([{"text": 5}], "query.text: expected java.lang.String, got java.lang.Integer"),
        ([{"tags": ["a", 3]}], "query.tags[1]: expected java.lang.String, got java.lang.Integer"),
        ([{"tags": "a,b"}], "query.tags: expected java.util.List<java.lang.String>, got java.lang.String"),
        (["not an object"], "query: expected org.example.Query, got java.lang.String"),
        ([JavaGenericObject("com.evil.Foo", {"text": "x"})], "query: expected org.example.Query, got com.evil.Foo"),
        ([{"class": "com.evil.Foo"}], "query: expected org.example.Query, got com.evil.Foo"),
        ([None], "query: expected org.example.Query (not null), got null"),
        ([{"limit": 1 << 40}], "query.limit: expected int, got a java.lang.Integer out of range"),
    ],
)
def test_arguments_that_do_not_fit_are_illegal_argument_exceptions(args, message):
    text = _refused_argument(call("search", "Lorg/example/Query;", args))
    assert text == f"org.example.SearchService.search(org.example.Query): {message}"
    assert "Python" not in text and "dict" not in text and "str" not in text.replace("java.lang.String", "")


def test_arguments_are_converted_to_the_hints():
    sample = Sample()
    dispatcher = Dispatcher([export_of(sample)])
    node = JavaGenericObject("org.dubborecsys.test.contract.Node", {"name": None, "ids": [1, 2], "color": "GREEN"})
    invocation = Invocation(
        "2.0.2",
        "org.dubborecsys.test.contract.SampleService",
        "1.0.0",
        "put",
        "Lorg/dubborecsys/test/contract/Node;Ljava/util/Map;",
        (node, {"k": [1]}),
        {"group": "g"},
    )
    assert asyncio.run(dispatcher.dispatch(invocation)) == Returned(None)
    put, attributes = sample.last
    assert type(put) is Node and put.name == "" and put.color is Color.GREEN  # null String field: its default
    assert [type(i) for i in put.ids] == [Long, Long] and attributes == {"k": [1]}
    outcome = call_sample("primitives", "ZBSIJFDCLjava/lang/Integer;", [True, 1, 2, 3, Long(4), 0.5, 1.5, "c", None])
    assert outcome.value == [True, 1, 2, 3, 4, 0.5, 1.5, "c", None]
    text = _refused_argument(
        call_sample("primitives", "ZBSIJFDCLjava/lang/Integer;", [1, 1, 2, 3, 4, 0.5, 1.5, "c", 1])
    )
    assert text.endswith("a: expected boolean, got java.lang.Integer")
    text = _refused_argument(
        call_sample("primitives", "ZBSIJFDCLjava/lang/Integer;", [True, 300, 2, 3, 4, 1, 1, "c", 1])
    )
    assert text.endswith("b: expected byte, got a java.lang.Integer out of range")
    text = _refused_argument(
        call_sample("primitives", "ZBSIJFDCLjava/lang/Integer;", [True, 1, 2, 3, 4, 1, 1, "cd", 1])
    )
    assert text.endswith("h: expected char, got a java.lang.String")
    text = _refused_argument(call_sample("ids", "Lorg/dubborecsys/test/contract/Color;I", ["BLUE", 1]))
    assert text.endswith("color: expected org.dubborecsys.test.contract.Color, got 'BLUE'")


def test_results_are_encoded_as_the_declared_return_type():
    outcome = call_sample("ids", "Lorg/dubborecsys/test/contract/Color;I", [Color.RED, 3])
    assert outcome.value == [0, 1, 2] and all(type(i) is int for i in outcome.value)  # the handler's plain ints
    encoder = Encoder()
    encoder.write(outcome.value, outcome.writer)
    assert encoder.getvalue() == dumps([Long(0), Long(1), Long(2)])  # ...travel as Java longs
    totals = call_sample("totals", "[I", [[1, 2]])
    encoder = Encoder()
    encoder.write(totals.value, totals.writer)
    assert encoder.getvalue() == dumps({"sum": Long(3)})
    assert call_sample("put", "Lorg/dubborecsys/test/contract/Node;Ljava/util/Map;", [Node(), {}]).writer is None


def test_unexpected_exception_is_a_runtime_exception_with_an_error_id(caplog):
    with caplog.at_level(logging.ERROR, logger="dubbo_recsys.provider.dispatch"):
        outcome = call("boom", "", [])
    assert isinstance(outcome, Raised) and outcome.java_class == RUNTIME_EXCEPTION
    assert outcome.message.startswith("Internal error in org.example.SearchService.boom() (error id ")
    assert "KeyError" not in outcome.message and "no such thing" not in outcome.message
    (record,) = [r for r in caplog.records if "boom" in r.getMessage()]
    assert "request 7" in record.getMessage() and outcome.message.split("error id ")[1][:-1] in record.getMessage()


def test_java_exceptions_reach_the_caller_as_their_class_with_fields_and_java_causes_only():
    outcome = call_sample("get", "J", [Long(404)])
    assert isinstance(outcome, Raised) and type(outcome.exception) is NotFound
    assert (outcome.message, outcome.exception.key, outcome.exception.code) == ("no node 404", 404, 404)
    bad = call_sample("get", "Ljava/lang/String;", ["bad"])
    assert type(bad.exception) is BadName and bad.java_class == "org.dubborecsys.test.contract.BadNameException"
    refused = call("refuse", "", [])
    assert refused.java_class == "java.lang.IllegalStateException" and refused.message == "not now"
    assert refused.exception.cause is None  # the Python cause stays here
    chained = IllegalStateException("outer", cause=JavaException("inner"))

    class Chained(Service, interface="org.example.Chained"):
        def go(self) -> None:
            raise chained

    outcome = asyncio.run(
        Dispatcher([export_of(Chained())]).dispatch(Invocation("2.0.2", "org.example.Chained", "", "go", "", ()))
    )
    assert isinstance(outcome, Raised) and outcome.exception.cause is not None
    assert outcome.exception.cause.message == "inner"


def test_generic_invoke_maps_in_and_out():
    outcome = call(
        "$invoke",
        GENERIC_DESCRIPTOR,
        ["search", ["org.example.Query"], [{"class": "org.example.Query", "text": "c", "limit": 1}]],
    )
    assert outcome == Returned({"class": "org.example.Hits", "items": ["c-0"]})
    assert call("$invokeAsync", GENERIC_DESCRIPTOR, ["add", ["int", "int"], [2, 5]]) == Returned(7)


def test_generic_invoke_failures_are_generic_exceptions():
    outcome = call("$invoke", GENERIC_DESCRIPTOR, ["missing", [], []])
    assert isinstance(outcome, Raised) and outcome.java_class == GENERIC_EXCEPTION
    assert outcome.extra_fields["exceptionClass"] == "java.lang.NoSuchMethodException"
    outcome = call("$invoke", GENERIC_DESCRIPTOR, ["add", None, [1, 2]])  # overloaded: types needed
    assert outcome.extra_fields["exceptionClass"] == "java.lang.NoSuchMethodException"
    outcome = call("$invoke", GENERIC_DESCRIPTOR, ["add", ["int", "int"], [1]])
    assert outcome.extra_fields["exceptionClass"] == "java.lang.IllegalArgumentException"
    outcome = call("$invoke", GENERIC_DESCRIPTOR, ["boom", [], []])
    assert outcome.extra_fields["exceptionClass"] == RUNTIME_EXCEPTION
    outcome = call("$invoke", GENERIC_DESCRIPTOR, ["search", ["org.example.Query"], [{"limit": "x"}]])
    assert outcome.extra_fields["exceptionClass"] == "java.lang.IllegalArgumentException"
    outcome = call("$invoke", GENERIC_DESCRIPTOR, ["add", "not-a-list", [1, 2]])
    assert outcome.extra_fields["exceptionClass"] == "java.lang.NoSuchMethodException"


def test_export_validation():
    with pytest.raises(ServiceSpecError):
        Dispatcher([export_of(Search()), export_of(Search())])

    class Empty(Service, interface="org.x.Empty"):
        pass

    with pytest.raises(ServiceSpecError):
        export_of(Empty())


def test_arguments_converted_ahead_give_the_same_outcomes():
    """Dispatcher.preconvert (a large body's exchange runs it beside the loop) changes nothing
    in what a call answers: converted arguments, refused ones, echo, unknown methods."""
    cases: list[tuple[str, str, list[Any]]] = [
        ("search", "Lorg/example/Query;", [{"text": "b", "limit": 1}]),
        ("add", "II", [1, 2]),
        ("add", "II", ["one", 2]),  # refused: IllegalArgumentException either way
        ("$echo", "Ljava/lang/Object;", [{"x": 1}]),
        ("nope", "I", [1]),
    ]
    for method, descriptor, args in cases:
        inv = Invocation(
            "2.0.2", "org.example.SearchService", "2.0.0", method, descriptor, tuple(args), {"group": "g1"}
        )
        ahead = DISPATCHER.preconvert(inv)
        plain, converted = asyncio.run(DISPATCHER.dispatch(inv)), asyncio.run(DISPATCHER.dispatch(ahead))
        assert type(plain) is type(converted)
        if isinstance(plain, Raised):
            assert isinstance(converted, Raised) and plain.exception.message == converted.exception.message
        else:
            assert plain == converted
        if method in ("search", "add"):
            assert ahead.converted is not None and ahead == inv  # compared without it
        else:
            assert ahead is inv
