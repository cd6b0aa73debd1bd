"""The dispatcher tells its observers every outcome, labelled with bounded names."""

from __future__ import annotations

import pytest

from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest, RecommendResponse
from dubbo_recsys.provider.contract import export_of
from dubbo_recsys.provider.dispatch import Dispatcher, Invocation
from dubbo_recsys.provider.observability import UNKNOWN, DispatchObserver, dispatch_labels
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.services import RecommendService, default_exports

DESCRIPTOR = "Lorg/dubborecsys/api/RecommendRequest;"


def _invocation(
    path: str = INTERFACE,
    method: str = "recommend",
    descriptor: str = DESCRIPTOR,
    args: tuple = (RecommendRequest(userId="u1"),),
) -> Invocation:
    return Invocation("2.0.2", path, VERSION, method, descriptor, args, {})


class Recording:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, float]] = []

    def observe_dispatch(self, invocation, outcome, seconds: float) -> None:
        self.seen.append((*dispatch_labels(invocation, outcome), seconds))


class Exploding(RecommendService):
    def __init__(self) -> None:
        pass

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        raise ValueError("no")


@pytest.mark.asyncio
async def test_every_outcome_reaches_the_observers_with_bounded_labels() -> None:
    dispatcher = Dispatcher(default_exports(PopularRecommender()))
    recording = Recording()
    assert isinstance(recording, DispatchObserver)
    dispatcher.observers.append(recording)
    await dispatcher.dispatch(_invocation())
    await dispatcher.dispatch(_invocation(path="x.Random1"))
    await dispatcher.dispatch(_invocation(method="randomName42"))
    await dispatcher.dispatch(_invocation(args=("not a request",)))
    labels = [entry[:3] for entry in recording.seen]
    assert labels == [
        (INTERFACE, "recommend", "ok"),
        (UNKNOWN, UNKNOWN, "service_not_found"),
        (INTERFACE, UNKNOWN, "service_error"),
        (INTERFACE, "recommend", "exception"),  # an IllegalArgumentException, as Dubbo's validation answers
    ]
    assert all(entry[3] >= 0 for entry in recording.seen)


@pytest.mark.asyncio
async def test_a_handler_that_raises_is_labelled_exception() -> None:
    dispatcher = Dispatcher([export_of(Exploding())])
    metrics = ProviderMetrics()
    dispatcher.observers.append(metrics)
    await dispatcher.dispatch(_invocation())
    text = metrics.exposition().decode()
    assert (
        f'dubbo_recsys_requests_total{{interface="{INTERFACE}",method="recommend",protocol="dubbo",'
        f'status="exception"}} 1.0' in text
    )
    assert metrics.method_table()[0]["errors"] == 1


@pytest.mark.asyncio
async def test_without_observers_dispatch_answers_the_same() -> None:
    dispatcher = Dispatcher(default_exports(PopularRecommender()))
    plain = await dispatcher.dispatch(_invocation())
    dispatcher.observers.append(Recording())
    observed = await dispatcher.dispatch(_invocation())
    assert plain == observed
