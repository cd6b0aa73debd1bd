"""JWT on: /login issues HS256 tokens; inference needs one, the console's state an admin one."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.rest.conftest import SECRET


async def _token(client, username: str, password: str) -> str:
    answer = await client.post("/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 600
    return body["access_token"]


@pytest.mark.asyncio
async def test_login_issues_an_hs256_token_naming_the_user_and_role(make_client, jwt_config) -> None:
    token = await _token(make_client(config=jwt_config), "alice", "alice-password")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="dubbo-recsys")
    assert claims["sub"] == "alice" and claims["role"] == "admin"
    assert 590 <= claims["exp"] - claims["iat"] <= 600


@pytest.mark.asyncio
@pytest.mark.parametrize("username, password", [("alice", "wrong-password"), ("mallory", "alice-password")])
async def test_wrong_credentials_are_401(make_client, jwt_config, username, password) -> None:
    answer = await make_client(config=jwt_config).post("/login", json={"username": username, "password": password})
    assert answer.status_code == 401 and answer.json()["detail"] == "unknown user or wrong password"


@pytest.mark.asyncio
async def test_inference_routes_need_a_token_when_jwt_is_on(make_client, jwt_config) -> None:
    client = make_client(config=jwt_config)
    for call in (
        client.post("/recommend", json={"userId": "u1"}),
        client.get("/recommend?userId=u1"),
        client.post("/infer", json={"userId": "u1", "dataId": "d"}),
    ):
        answer = await call
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    token = await _token(client, "bob", "bob-password")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/recommend", json={"userId": "u1"}, headers=headers)).status_code == 200
    assert (await client.post("/infer", json={"userId": "u1", "dataId": "d"}, headers=headers)).status_code == 200


@pytest.mark.asyncio
async def test_probes_metrics_and_documents_stay_open(make_client, jwt_config) -> None:
    client = make_client(config=jwt_config)
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/console"):
        assert (await client.get(path)).status_code == 200, path


@pytest.mark.asyncio
async def test_console_state_needs_the_admin_role(make_client, jwt_config) -> None:
    client = make_client(config=jwt_config)
    user = await _token(client, "bob", "bob-password")
    admin = await _token(client, "alice", "alice-password")
    assert (await client.get("/console/state")).status_code == 401
    forbidden = await client.get("/console/state", headers={"Authorization": f"Bearer {user}"})
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["detail"]
    allowed = await client.get("/console/state", headers={"Authorization": f"Bearer {admin}"})
    assert allowed.status_code == 200 and allowed.json()["auth"] is True


def _forge(claims: dict, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


@pytest.mark.asyncio
async def test_forged_expired_and_malformed_tokens_are_401(make_client, jwt_config) -> None:
    client = make_client(config=jwt_config)
    now = int(time.time())
    good = {"sub": "alice", "role": "admin", "iss": "dubbo-recsys", "iat": now, "exp": now + 60}
    unsigned = jwt.encode(good, None, algorithm="none")  # type: ignore[arg-type]  # alg "none" is signed with no key
    tokens = {
        "expired": _forge({**good, "iat": now - 120, "exp": now - 60}),
        "other key": _forge(good, key="another-secret-that-is-32-bytes-or-longer"),
        "alg none": unsigned,
        "other issuer": _forge({**good, "iss": "someone-else"}),
        "no exp": _forge({k: v for k, v in good.items() if k != "exp"}),
        "bad role": _forge({**good, "role": "root"}),
        "garbage": "not.a.token",
    }
    for name, token in tokens.items():
        answer = await client.get("/console/state", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
    assert (
        "expired"
        in (await client.get("/console/state", headers={"Authorization": f"Bearer {tokens['expired']}"})).json()[
            "detail"
        ]
    )
    not_bearer = await client.get("/console/state", headers={"Authorization": f"Basic {_forge(good)}"})
    assert not_bearer.status_code == 401
    assert (await client.get("/console/state", headers={"Authorization": f"Bearer {_forge(good)}"})).status_code == 200
