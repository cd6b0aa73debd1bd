"""/openapi.json is a valid OpenAPI document and describes what the app really serves."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from dubbo_recsys.provider.rest import RestShimConfig


@pytest.mark.asyncio
async def test_the_document_is_valid_openapi(make_client, jwt_config) -> None:
    for config in (RestShimConfig(port=0), jwt_config):
        document = (await make_client(config=config).get("/openapi.json")).json()
        validate(document)  # raises OpenAPIValidationError on any fault
        assert document["openapi"].startswith("3.")


@pytest.mark.asyncio
async def test_the_document_lists_every_route_with_its_request_schema(make_client) -> None:
    document = (await make_client().get("/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/recommend"]) == {"get", "post"}
    for path in ("/infer", "/login"):
        assert "post" in paths[path]
    for path in ("/healthz", "/readyz", "/metrics", "/console/state"):
        assert "get" in paths[path]
    schemas = document["components"]["schemas"]
    body = schemas["RecommendBody"]
    assert body["required"] == ["userId"] and body["additionalProperties"] is False
    assert body["properties"]["count"]["maximum"] == 1000
    assert set(schemas["InferBody"]["required"]) == {"userId", "dataId"}
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    explain = [p for p in paths["/recommend"]["post"]["parameters"] if p["name"] == "explain"]
    assert explain and explain[0]["in"] == "query"


@pytest.mark.asyncio
async def test_the_docs_page_is_self_contained(make_client) -> None:
    page = (await make_client().get("/docs")).text
    assert "/openapi.json" in page
    assert "http://" not in page and "https://" not in page  # no CDN: works without internet
