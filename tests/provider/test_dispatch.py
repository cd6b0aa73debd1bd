"""Routing, built-ins and failure answers, without bytes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

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
from dubbo_recsys.provider.spec import Export, MethodSpec, ServiceSpec


@dataclass
class Query:
    __java_class__: ClassVar[str] = "org.example.Query"
    text: str = ""
    limit: int = 10
    tags: list[str] = field(default_factory=list)


@dataclass
class Hits:
    __java_class__: ClassVar[str] = "org.example.Hits"
    items: list[str] = field(default_factory=list)


class SearchImpl:
    async def search(self, query: Query) -> Hits:
        return Hits([f"{query.text}-{i}" for i in range(query.limit)])

    def add(self, a: int, b: int) -> int:
        return a + b

    def add3(self, a: int, b: int, c: int) -> int:
        return a + b + c

    def boom(self) -> None:
        raise KeyError("no such thing")


SPEC = ServiceSpec(
    "org.example.SearchService",
    methods=(
        MethodSpec("search", (Query,), Hits),
        MethodSpec("add", ("int", "int"), "int"),
        MethodSpec("add", ("int", "int", "int"), "int", handler="add3"),
        MethodSpec("boom", (), "void"),
    ),
    version="2.0.0",
    group="g1",
)
DISPATCHER = Dispatcher([Export(SPEC, SearchImpl())])


def call(method, descriptor, args, version="2.0.0", group="g1", path="org.example.SearchService"):
    attachments = {"group": group} if group else {}
    inv = Invocation("2.0.2", path, version, method, descriptor, tuple(args), attachments)
    return asyncio.run(DISPATCHER.dispatch(inv))


def test_typed_call_with_bound_object():
    assert call("search", "Lorg/example/Query;", [Query("a", 2)]) == Returned(Hits(["a-0", "a-1"]))


def test_typed_call_with_map_argument_is_realized():
    assert call("search", "Lorg/example/Query;", [{"text": "b", "limit": 1}]) == Returned(Hits(["b-0"]))


def test_overloads_by_descriptor():
    assert call("add", "II", [1, 2]) == Returned(3)
    assert call("add", "III", [1, 2, 3]) == Returned(6)


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
    assert outcome.status == Status.SERVICE_ERROR and "methods: search,add,boom" in outcome.message
    outcome = call("add", "J", [1])
    assert outcome.status == Status.SERVICE_ERROR and "'II'" in outcome.message


def test_wrong_argument_shape_is_bad_request():
    outcome = call("search", "Lorg/example/Query;", [{"text": 5}])
    assert outcome.status == Status.BAD_REQUEST and "$.text" in outcome.message
    outcome = call("search", "Lorg/example/Query;", [{"tags": ["a", 3]}])
    assert outcome.status == Status.BAD_REQUEST and "$.tags[1]" in outcome.message
    outcome = call("search", "Lorg/example/Query;", ["not an object"])
    assert outcome.status == Status.BAD_REQUEST


def test_handler_exception_becomes_runtime_exception():
    outcome = call("boom", "", [])
    assert outcome == Raised(RUNTIME_EXCEPTION, "KeyError: 'no such thing'")


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


def test_spec_validation():
    with pytest.raises(ServiceSpecError):
        Export(SPEC, object())
    with pytest.raises(ServiceSpecError):
        MethodSpec("bad name", ())
    with pytest.raises(ServiceSpecError):
        ServiceSpec("org.x.S", (MethodSpec("a", ("int",)), MethodSpec("a", ("int",))))
    with pytest.raises(ServiceSpecError):
        Dispatcher([Export(SPEC, SearchImpl()), Export(SPEC, SearchImpl())])
    assert SPEC.method_names == ("search", "add", "boom")
    assert SPEC.methods[0].descriptor == "Lorg/example/Query;"
