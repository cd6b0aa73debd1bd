"""The REST routes with authentication off: inference, explain, the seed's /infer, probes, 4xx."""

from __future__ import annotations

import json

import pytest

from dubbo_recsys.provider.observability.state import Phase
from dubbo_recsys.provider.rest import RestShimConfig
from tests.rest.recommenders import RaisingRecommender, ThriftyRecommender, pipeline_recommender


@pytest.mark.asyncio
async def test_post_and_get_recommend_answer_the_same_items(make_client) -> None:
    client = make_client()
    posted = await client.post(
        "/recommend", json={"userId": "u1", "scene": "home", "count": 4, "exposureList": ["item-0002"]}
    )
    got = await client.get("/recommend", params={"userId": "u1", "scene": "home", "count": 5})
    assert posted.status_code == 200 and got.status_code == 200
    post_ids = [i["itemId"] for i in posted.json()["items"]]
    get_ids = [i["itemId"] for i in got.json()["items"]]
    assert len(post_ids) == 4 and "item-0002" not in post_ids
    assert get_ids[:2] == ["item-0001", "item-0002"] and len(get_ids) == 5
    assert "explain" not in posted.json() and posted.headers["x-request-id"]


@pytest.mark.asyncio
async def test_explain_shows_each_stage_with_candidates_scores_and_timings(make_client) -> None:
    client = make_client(pipeline_recommender())
    answer = await client.get("/recommend", params={"userId": "u1", "count": 3, "explain": "true"})
    body = answer.json()
    assert answer.status_code == 200 and body["pipeline"] == "full"
    stages = {s["stage"]: s for s in body["explain"]}
    assert set(stages) == {"rest_test_fixed", "rest_test_odd_first"}
    recall, rank = stages["rest_test_fixed"], stages["rest_test_odd_first"]
    assert (recall["kind"], recall["candidatesIn"], recall["candidatesOut"]) == ("recall", 0, 30)
    assert (rank["kind"], rank["candidatesIn"], rank["candidatesOut"]) == ("rank", 30, 15)
    # the rank stage doubled the score in place: the trace still shows what it came in with
    assert rank["top"][0] == {
        "itemId": "item-1",
        "score": pytest.approx(1.98),
        "before": pytest.approx(0.99),
        "channels": ["fixed"],
    }
    assert "before" not in recall["top"][0] and recall["channels"] == {"fixed": 30}
    assert rank["channels"] == {"fixed": 15}
    assert all(s["millis"] >= 0 for s in body["explain"])
    assert [i["itemId"] for i in body["items"]] == ["item-1", "item-3", "item-5"]


@pytest.mark.asyncio
async def test_debug_in_the_body_is_explain_too_and_without_it_there_is_none(make_client) -> None:
    client = make_client(pipeline_recommender())
    with_debug = await client.post("/recommend", json={"userId": "u1", "debug": True})
    plain = await client.post("/recommend", json={"userId": "u1"})
    assert len(with_debug.json()["explain"]) == 2
    assert "explain" not in plain.json()


@pytest.mark.asyncio
async def test_explain_can_be_turned_off(make_client) -> None:
    client = make_client(pipeline_recommender(), RestShimConfig(port=0, explain=False))
    answer = await client.get("/recommend", params={"userId": "u1", "explain": "true"})
    assert answer.status_code == 403 and "explain" in answer.json()["detail"]


@pytest.mark.asyncio
async def test_infer_speaks_the_seed_contract(make_client) -> None:
    client = make_client()
    answer = await client.post("/infer", json={"userId": "u1", "dataId": "scene-a", "exposureList": ["item-0001"]})
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 200
    assert body["data"][0].split(":")[0] == "item-0002"
    assert float(body["data"][0].split(":")[1]) > float(body["data"][1].split(":")[1])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body, where",
    [
        ({"scene": "home"}, ["body", "userId"]),
        ({"userId": "u1", "count": 0}, ["body", "count"]),
        ({"userId": "u1", "count": "many"}, ["body", "count"]),
        ({"userId": "u1", "colour": "red"}, ["body", "colour"]),
        ({"userId": "u1", "exposureList": "item-1"}, ["body", "exposureList"]),
        ({"userId": "u1", "context": {"k": 3}}, ["body", "context", "k"]),
    ],
)
async def test_a_wrong_body_is_a_422_that_says_where(make_client, body, where) -> None:
    answer = await make_client().post("/recommend", json=body)
    assert answer.status_code == 422
    assert where in [problem["loc"] for problem in answer.json()["detail"]]


@pytest.mark.asyncio
async def test_bad_query_parameters_and_broken_json_are_422(make_client) -> None:
    client = make_client()
    missing = await client.get("/recommend", params={"count": 3})
    too_many = await client.get("/recommend", params={"userId": "u1", "count": 100000})
    broken = await client.post("/recommend", content=b'{"userId": ', headers={"content-type": "application/json"})
    infer = await client.post("/infer", json={"userId": "u1"})
    assert (missing.status_code, too_many.status_code, broken.status_code, infer.status_code) == (422,) * 4
    assert ["query", "userId"] in [p["loc"] for p in missing.json()["detail"]]
    assert ["query", "count"] in [p["loc"] for p in too_many.json()["detail"]]
    assert broken.json()["detail"][0]["type"] == "json_invalid"
    assert ["body", "dataId"] in [p["loc"] for p in infer.json()["detail"]]


@pytest.mark.asyncio
async def test_unknown_paths_wrong_verbs_and_huge_bodies_are_refused(make_client) -> None:
    client = make_client(config=RestShimConfig(port=0, max_body_bytes=4096))
    assert (await client.get("/nowhere")).status_code == 404
    assert (await client.delete("/recommend")).status_code == 405
    huge = await client.post(
        "/recommend",
        content=json.dumps({"userId": "u", "exposureList": ["x" * 200] * 100}),
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and "4096" in huge.json()["detail"]

    # a body that lies about its length (chunked, no Content-Length) is bounded as well
    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    chunked = await client.post("/recommend", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert (await client.get("/recommend", params={"userId": "u1"})).status_code == 200


@pytest.mark.asyncio
async def test_a_refusal_by_the_recommender_keeps_its_4xx_code(make_client) -> None:
    # the shim accepts up to 1000 items; this recommender refuses more than 500 with code 400
    answer = await make_client(ThriftyRecommender()).post("/recommend", json={"userId": "u1", "count": 600})
    assert answer.status_code == 400
    assert answer.json()["code"] == 400 and "count" in answer.json()["message"]


@pytest.mark.asyncio
async def test_a_recommender_that_raises_is_a_500_and_the_app_carries_on(make_client) -> None:
    client = make_client(RaisingRecommender())
    first = await client.post("/recommend", json={"userId": "u1"})
    second = await client.post("/infer", json={"userId": "u1", "dataId": "d"})
    assert first.status_code == 500 and "RuntimeError" in first.json()["detail"]
    assert second.status_code == 500
    assert (await client.get("/healthz")).json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_readiness_follows_the_provider_phase(make_client) -> None:
    client = make_client()
    assert (await client.get("/readyz")).status_code == 200
    client.state.phase = Phase.DRAINING
    draining = await client.get("/readyz")
    assert draining.status_code == 503 and draining.json() == {"ready": False, "phase": "draining"}
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.asyncio
async def test_login_is_404_when_authentication_is_off(make_client) -> None:
    answer = await make_client().post("/login", json={"username": "alice", "password": "alice-password"})
    assert answer.status_code == 404


@pytest.mark.asyncio
async def test_a_request_id_header_is_kept_when_sane_and_replaced_when_not(make_client) -> None:
    client = make_client()
    kept = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    replaced = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert kept.headers["x-request-id"] == "abc-123"
    assert replaced.headers["x-request-id"] not in ("", "bad id with spaces")


@pytest.mark.asyncio
async def test_the_span_of_a_rest_call_carries_the_callers_request_id() -> None:
    import httpx
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from dubbo_recsys.provider.observability.metrics import ProviderMetrics
    from dubbo_recsys.provider.rest import build_app

    exporter = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    app = build_app(pipeline_recommender(), RestShimConfig(port=0), ProviderMetrics(), tracer=tracing.get_tracer("t"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rest.test") as client:
        answer = await client.get("/recommend", params={"userId": "u1"}, headers={"x-request-id": "caller-7"})
    assert answer.status_code == 200
    spans = [s for s in exporter.get_finished_spans() if s.name == "rest recommend"]
    assert len(spans) == 1 and dict(spans[0].attributes or {})["request.id"] == "caller-7"


@pytest.mark.asyncio
async def test_a_422_says_where_but_never_echoes_the_input(make_client) -> None:
    client = make_client()
    login = await client.post("/login", json={"username": "alice", "password": ["hunter2-secret"]})
    infinite = await client.post(
        "/recommend", content=b'{"userId": "u1", "count": 1e999}', headers={"content-type": "application/json"}
    )
    assert login.status_code == 422 and "hunter2-secret" not in login.text
    assert login.json()["detail"][0]["loc"] == ["body", "password"]
    assert infinite.status_code == 422 and infinite.json()["detail"][0]["loc"] == ["body", "count"]
