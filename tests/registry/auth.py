"""An auth-enabled Nacos of a test's own: its admin, users, roles and tokens, through the v3 auth API.

``NACOS_AUTH=1 nacos.sh start`` (``OwnNacos(..., auth=True)``) turns on ``nacos.core.auth.enabled`` with a
fresh token secret key. Nacos 3 has no default user: while no admin exists, ``POST /nacos/v3/auth/user/admin``
with ``password`` creates the admin (always named ``nacos``) and answers with its name and password; it is
refused (409) once an admin exists. As that admin (``accessToken`` from ``POST /nacos/v3/auth/user/login``):
``POST /v3/auth/user`` creates a user, ``POST /v3/auth/role`` gives it a role, and ``POST /v3/auth/permission``
lets the role read/write (``rw``) a resource ``<namespaceId>:*:*``. A user without a role may log in but not
read or write anything. All of this is test set-up; production code only logs in (the SDK does it).

Blocking urllib, like tests/registry/openapi.py: call it through ``asyncio.to_thread`` under an event loop.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.registry.openapi import OpenApi

ADMIN = "nacos"  # the name Nacos 3 gives the admin it creates


def call(addr: str, method: str, path: str, params: dict[str, str]) -> tuple[int, str]:
    """One HTTP call to ``http://addr/nacos{path}``: (status, body), also for 4xx/5xx answers."""
    url = f"http://{addr}/nacos{path}"
    query = urllib.parse.urlencode(params)
    if method == "GET":
        request = urllib.request.Request(f"{url}?{query}")
    else:
        request = urllib.request.Request(url, data=query.encode(), method=method)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _ok(answer: tuple[int, str], what: str) -> Any:
    status, body = answer
    if status != 200:
        raise AssertionError(f"{what}: HTTP {status}: {body[:300]}")
    return json.loads(body)


class TokenOpenApi(OpenApi):
    """``OpenApi`` whose calls carry an ``accessToken`` (a user's view of an auth-enabled Nacos)."""

    def __init__(self, addr: str, token: str, namespace: str = "") -> None:
        super().__init__(addr, namespace)
        self.token = token

    def _call(self, method: str, path: str, params: dict[str, str]) -> str:
        return super()._call(method, path, dict(params, accessToken=self.token))


@dataclass
class Users:
    """Who exists on the server after ``set_up_users``; passwords are random per run."""

    admin_password: str
    admin_token: str
    #: A user whose role reads and writes the public namespace, as a production provider's would.
    user: str
    password: str
    #: A user that can log in but has no role, so no permission.
    no_role_user: str
    no_role_password: str


def create_admin(addr: str, password: str) -> dict[str, Any]:
    """``POST /v3/auth/user/admin``: the admin (``nacos``) with this password; fails if one exists."""
    answer = _ok(call(addr, "POST", "/v3/auth/user/admin", {"password": password}), "create admin")
    if answer.get("code") != 0:
        raise AssertionError(f"create admin refused: {answer}")
    return answer["data"]


def login(addr: str, username: str, password: str) -> str:
    """``POST /v3/auth/user/login``: an access token (the JSON's ``accessToken``)."""
    answer = _ok(
        call(addr, "POST", "/v3/auth/user/login", {"username": username, "password": password}), f"login {username}"
    )
    return str(answer["accessToken"])


def admin_call(addr: str, token: str, method: str, path: str, params: dict[str, str]) -> None:
    answer = _ok(call(addr, method, path, dict(params, accessToken=token)), f"{method} {path}")
    if answer.get("code") != 0:
        raise AssertionError(f"{method} {path} refused: {answer}")


def set_up_users(addr: str) -> Users:
    """The admin, a user with read/write on ``public:*:*`` and a user without any role.

    The user's password holds ``& = % #`` so the registry URL must percent-encode it, as an operator's would.
    """
    admin_password = secrets.token_urlsafe(18)
    created = create_admin(addr, admin_password)
    assert created["username"] == ADMIN
    token = login(addr, ADMIN, admin_password)
    suffix = secrets.token_hex(3)
    user, password = f"recsys-{suffix}", f"pw&={secrets.token_urlsafe(12)}%#"
    no_role_user, no_role_password = f"norole-{suffix}", secrets.token_urlsafe(12)
    admin_call(addr, token, "POST", "/v3/auth/user", {"username": user, "password": password})
    admin_call(addr, token, "POST", "/v3/auth/role", {"role": f"role-{user}", "username": user})
    admin_call(
        addr, token, "POST", "/v3/auth/permission", {"role": f"role-{user}", "resource": "public:*:*", "action": "rw"}
    )
    admin_call(addr, token, "POST", "/v3/auth/user", {"username": no_role_user, "password": no_role_password})
    return Users(admin_password, token, user, password, no_role_user, no_role_password)
