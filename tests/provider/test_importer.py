"""``serve --app package.module:attr``: what the attribute may be, and the errors when it is not."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.provider.importer import AppLoadError, load_services

MODULE = """
from dubbo_recsys.provider import Service


class Hello(Service, interface="org.test.app.Hello"):
    def hello(self, name: str) -> str:
        return "hello " + name


class Bye(Service, interface="org.test.app.Bye"):
    def __init__(self, word):
        self.word = word

    def bye(self) -> str:
        return self.word


one = Hello()
several = [Hello(), Bye("bye")]
made = []


def factory():
    made.append(1)
    return [Hello(), Bye("ciao")]


async def async_factory():
    return Hello()


def wrong_factory():
    return 42


class Holder:
    inner = Hello()


mixed = [Hello(), 3]
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"app_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_an_object_a_list_a_factory_or_a_class(app: str) -> None:
    assert [type(s).__name__ for s in load_services(f"{app}:one")] == ["Hello"]
    assert [type(s).__name__ for s in load_services(f"{app}:several")] == ["Hello", "Bye"]
    made = load_services(f"{app}:factory")
    assert [type(s).__name__ for s in made] == ["Hello", "Bye"] and sys.modules[app].made == [1]
    assert [type(s).__name__ for s in load_services(f"{app}:Hello")] == ["Hello"]  # a class is a factory
    assert [type(s).__name__ for s in load_services(f"{app}:Holder.inner")] == ["Hello"]


@pytest.mark.parametrize(
    "attr, message",
    [
        ("nothing", "has no attribute 'nothing'"),
        ("async_factory", "the factory is async"),
        ("wrong_factory", "a factory must return a Service or a list of them, got int"),
        ("mixed", "a list of Service objects is expected, got a list of Hello, int"),
        ("MODULE_CONSTANT", "has no attribute"),
    ],
)
def test_what_is_not_services_is_refused_clearly(app: str, attr: str, message: str) -> None:
    with pytest.raises(AppLoadError, match=message):
        load_services(f"{app}:{attr}")


def test_bad_specs() -> None:
    with pytest.raises(AppLoadError, match=r'expected "package\.module:attribute"'):
        load_services("no_colon")
    with pytest.raises(AppLoadError, match="no module named 'surely_not_a_module'"):
        load_services("surely_not_a_module.sub:thing")
