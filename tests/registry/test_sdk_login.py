"""Our replacement of the SDK's Nacos login (registry._sdk._login_with_form_body), against a recording server.

The real-server tests (test_nacos_auth.py) show that the login works and keeps the password out of the
access log; these pin the rest of the SDK's contract that the replacement took over: the token is cached
until ``tokenTtl - 10`` seconds have passed and then fetched again, ``force_refresh`` logs in again, and a
refused login is the SDK's ``NacosException`` that ``auth_problem`` recognises. No Nacos needed.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def sdk() -> Any:
    import importlib.util

    if importlib.util.find_spec("v2") is None:
        if os.environ.get("CI"):
            pytest.fail("the nacos extra is not installed")
        pytest.skip("the nacos extra is not installed")
    from dubbo_recsys.registry._sdk import nacos_sdk

    return nacos_sdk()


class LoginServer:
    """Answers ``POST .../v1/auth/users/login`` with tokens t1, t2, ... (or a status), recording each request."""

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.status = 200
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                server.requests.append(
                    {"line": self.requestline, "type": self.headers.get("Content-Type", ""), "body": body}
                )
                payload = json.dumps({"accessToken": f"t{len(server.requests)}", "tokenTtl": server.ttl}).encode()
                self.send_response(server.status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.addr = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def login_server() -> Iterator[LoginServer]:
    server = LoginServer(ttl=11)  # the SDK refreshes 10 s early: this token is good for 1 s
    try:
        yield server
    finally:
        server.close()


def auth_client(sdk: Any, addr: str, password: str, work_dir: Path) -> Any:
    from v2.nacos.transport.auth_client import AuthClient
    from v2.nacos.transport.http_agent import HttpAgent

    from dubbo_recsys.registry._sdk import client_config

    config = client_config(addr, namespace="", username="recsys", password=password, work_dir=work_dir)
    logger = logging.getLogger("test-sdk-login")
    return AuthClient(logger, config, lambda: [addr], HttpAgent(logger, None, 5000))


@pytest.mark.asyncio
async def test_login_posts_a_form_body_and_caches_the_token_until_it_is_due(
    sdk: Any, login_server: LoginServer, tmp_path: Path
) -> None:
    password = "p&ss=w%rd#1"
    client = auth_client(sdk, login_server.addr, password, tmp_path)
    assert await client.get_access_token() == "t1"
    [first] = login_server.requests
    assert first["line"] == "POST /nacos/v1/auth/users/login HTTP/1.1"  # nothing in the query string
    assert first["type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(first["body"]) == {"username": ["recsys"], "password": [password]}

    assert await client.get_access_token() == "t1" and len(login_server.requests) == 1  # cached
    await asyncio.sleep(1.2)
    assert await client.get_access_token() == "t2" and len(login_server.requests) == 2  # due: logged in again
    assert await client.get_access_token(True) == "t3" and len(login_server.requests) == 3  # force_refresh


@pytest.mark.asyncio
async def test_a_refused_login_is_the_sdk_error_auth_problem_names(
    sdk: Any, login_server: LoginServer, tmp_path: Path
) -> None:
    from v2.nacos.common.nacos_exception import NacosException

    from dubbo_recsys.registry._sdk import auth_problem

    login_server.status = 403
    client = auth_client(sdk, login_server.addr, "wrong", tmp_path)
    with pytest.raises(NacosException) as info:
        await client.get_access_token()
    assert auth_problem(info.value, "recsys", "") == (
        "authentication failed: Nacos refused the login of user 'recsys' (wrong username or password?)"
    )
    assert len(login_server.requests) == 1
