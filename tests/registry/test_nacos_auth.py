"""The registry and the config center against a Nacos with authentication on (nacos.core.auth.enabled=true).

One auth-enabled server for the module (``OwnNacos(..., auth=True)``, users set up through the v3 auth API
in tests/registry/auth.py). With a user that may read/write the namespace, our NacosRegistry registers and
deregisters and the config center reads and watches a scene, all seen through the Open API with a token.
With a wrong password, no credentials, or a user without permission, nothing raises and the provider keeps
serving: the record stays unregistered, one ERROR says which auth problem it is, and retries back off
instead of hammering the login endpoint. The password never shows in our logs, the SDK's log files or
the registered record. An unmodified Java Dubbo 3.3 consumer (tests/registry/java) with a read-only user
of its own calls ``dubbo-recsys serve`` through this server; with a user without a role it finds no provider.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.registry import (
    ExportedService,
    LocalConfigCenter,
    NacosConfigCenter,
    NacosRegistry,
    NacosSettings,
    RegistryUnavailableError,
    parse_registry_url,
    provider_url,
)
from tests.registry.auth import TokenOpenApi, Users, admin_call, call, create_admin, login, set_up_users
from tests.registry.java_consumer import java_consumer, registered_provider
from tests.registry.openapi import wait_for
from tests.registry.scenes import seed_style, text
from tests.registry.server import OwnNacos
from tests.support import free_port, require_env

pytestmark = pytest.mark.nacos


@pytest.fixture(scope="module")
def auth_nacos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnNacos, Users]]:
    server = OwnNacos(require_env("NACOS_LAUNCHER"), tmp_path_factory.mktemp("nacos-auth"), auth=True)
    try:
        server.start()
        yield server, set_up_users(server.addr)
    finally:
        server.stop()


def url_for(addr: str, username: str = "", password: str = "") -> str:
    url = f"nacos://{addr}?unregister.wait=0"
    if username:
        url += f"&username={urllib.parse.quote(username, safe='')}&password={urllib.parse.quote(password, safe='')}"
    return url


def settings_for(url: str, tmp_path: Path, **overrides: object) -> NacosSettings:
    settings = parse_registry_url(url)
    assert settings is not None
    fields: dict[str, object] = dict(work_dir=tmp_path / "sdk", request_timeout=5.0, check_interval=0.2)
    fields.update(overrides)
    return dataclasses.replace(settings, **fields)  # type: ignore[arg-type]  # fields of any type, overridden per test


def exported(**overrides: object) -> ExportedService:
    fields: dict[str, object] = dict(
        interface=f"com.loki.auth{uuid.uuid4().hex[:10]}.DubbogoInferService",
        methods=("RecommenderInfer",),
        host="127.0.0.1",
        port=10000,
        application="recsys",
    )
    fields.update(overrides)
    return ExportedService(**fields)  # type: ignore[arg-type]  # fields of any type, overridden per test


def assert_secret_free(secret: str, caplog: pytest.LogCaptureFixture, sdk_dir: Path) -> None:
    """Neither our log records nor the SDK's own log files (under work_dir) hold ``secret``."""
    assert secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)
    files = [p for p in sdk_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files), "the SDK wrote no log file: nothing was checked"
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_the_server_has_auth_on(auth_nacos: tuple[OwnNacos, Users]) -> None:
    """Guards the rest: anonymous calls are refused, the admin exists once, its token opens the API."""
    server, users = auth_nacos
    status, body = call(server.addr, "GET", "/v1/ns/service/list", {"pageNo": "1", "pageSize": "10"})
    assert status == 403 and "User not found" in body
    with pytest.raises(AssertionError, match="have admin user cannot use it"):  # only while none exists
        create_admin(server.addr, "second-admin-attempt")
    assert isinstance(TokenOpenApi(server.addr, users.admin_token).services(), list)
    with pytest.raises(AssertionError, match="HTTP"):
        login(server.addr, users.user, users.password + "x")


@pytest.mark.asyncio
async def test_registers_and_deregisters_with_credentials(
    auth_nacos: tuple[OwnNacos, Users], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, users = auth_nacos
    caplog.set_level(logging.DEBUG, logger="dubbo_recsys.registry")
    api = TokenOpenApi(server.addr, users.admin_token)
    settings = settings_for(url_for(server.addr, users.user, users.password), tmp_path)
    assert (settings.username, settings.password) == (users.user, users.password)  # decoded from the URL
    assert users.password not in repr(settings)
    kept, gone = exported(version="1.0.0"), exported()
    kept_name, gone_name = f"providers:{kept.interface}:1.0.0:", f"providers:{gone.interface}::"
    registry = await NacosRegistry.connect(settings)
    try:
        await registry.register(kept)
        await registry.register(gone)
        assert registry.registered() == {kept_name: True, gone_name: True}
        hosts = await asyncio.to_thread(wait_for, lambda: api.instances(kept_name), bool, 5)
        assert [(h["ip"], h["port"], h["ephemeral"]) for h in hosts] == [("127.0.0.1", 10000, True)]
        metadata = hosts[0]["metadata"]
        assert (metadata["interface"], metadata["version"], metadata["application"], metadata["methods"]) == (
            kept.interface,
            "1.0.0",
            "recsys",
            "RecommenderInfer",
        )
        assert not [k for k, v in metadata.items() if users.password in v or "password" in k or users.user in v]
        assert users.password not in provider_url(kept, metadata)

        await registry.unregister(gone)
        assert await asyncio.to_thread(wait_for, lambda: api.instances(gone_name), lambda h: not h, 5) == []
        assert len(api.instances(kept_name)) == 1
    finally:
        await registry.close()
    assert await asyncio.to_thread(wait_for, lambda: api.instances(kept_name), lambda h: not h, 5) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("dubbo_recsys.registry")]
    assert_secret_free(users.password, caplog, tmp_path / "sdk")


@pytest.mark.asyncio
async def test_config_center_reads_and_watches_with_credentials(
    auth_nacos: tuple[OwnNacos, Users], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, users = auth_nacos
    caplog.set_level(logging.DEBUG, logger="dubbo_recsys.registry")
    api = TokenOpenApi(server.addr, users.admin_token)
    data_id = f"scene-{uuid.uuid4().hex[:8]}"
    assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id, version="v1")))
    await asyncio.to_thread(wait_for, lambda: api.get_config(data_id, "infer"), bool, 5)
    settings = settings_for(url_for(server.addr, users.user, users.password), tmp_path)
    center = await NacosConfigCenter.connect(settings)
    try:
        assert (await center.get(data_id, "infer")).version == "v1"
        assert center.stats.fallbacks == 0
        assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id, version="v2")))
        await asyncio.to_thread(
            wait_for, lambda: getattr(center.current(data_id, "infer"), "version", None), lambda v: v == "v2", 5
        )
        current = center.current(data_id, "infer")
        assert current is not None and current.version == "v2" and center.stats.applied == 1
    finally:
        await center.close()
    assert_secret_free(users.password, caplog, tmp_path / "sdk")


@pytest.mark.asyncio
async def test_application_level_records_with_credentials_and_without_permission(
    auth_nacos: tuple[OwnNacos, Users], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """register-mode=all also writes configs (MetadataInfo, mapping): allowed for the user, refused without a role."""
    from dubbo_recsys.registry.application import app_metadata

    server, users = auth_nacos
    caplog.set_level(logging.DEBUG, logger="dubbo_recsys.registry")
    api = TokenOpenApi(server.addr, users.admin_token)
    app = f"auth-app-{uuid.uuid4().hex[:6]}"
    service = exported(application=app)
    revision = app_metadata([service]).revision
    url = url_for(server.addr, users.user, users.password) + "&register-mode=all"
    registry = await NacosRegistry.connect(settings_for(url, tmp_path / "ok"))
    try:
        await registry.register(service)
        assert registry.registered() == {f"providers:{service.interface}::": True, app: True}
        hosts = await asyncio.to_thread(wait_for, lambda: api.instances(app), bool, 5)
        assert hosts[0]["metadata"]["dubbo.metadata.revision"] == revision
        assert await asyncio.to_thread(wait_for, lambda: api.get_config(app, revision), bool, 5)
    finally:
        await registry.close()

    refused_url = url_for(server.addr, users.no_role_user, users.no_role_password) + "&register-mode=all"
    registry = await NacosRegistry.connect(settings_for(refused_url, tmp_path / "refused"))
    try:
        await registry.register(service)
        await asyncio.sleep(1.5)
        assert not any(registry.registered().values())
        errors = [
            r.getMessage()
            for r in caplog.records
            if r.name == "dubbo_recsys.registry.nacos" and r.levelno == logging.ERROR
        ]
        assert [e for e in errors if "application metadata" in e and "authorization failed" in e], errors
        assert len(errors) == 2, errors  # the interface-level record and the metadata, once each
    finally:
        await registry.close()
    assert_secret_free(users.password, caplog, tmp_path / "ok" / "sdk")
    assert_secret_free(users.no_role_password, caplog, tmp_path / "refused" / "sdk")


REFUSALS = {
    # case: (username, password, what the ERROR says) - resolved against the module's users
    "wrong-password": ("user", "wrong", "authentication failed: Nacos refused the login of user"),
    "no-credentials": ("", "", "authentication required"),
    "no-permission": ("no_role_user", "no_role_password", "authorization failed"),
}


def credentials(users: Users, case: str) -> tuple[str, str]:
    user_field, password_field, _ = REFUSALS[case]
    if not user_field:
        return "", ""
    user = getattr(users, user_field)
    password = users.password + "-wrong" if password_field == "wrong" else getattr(users, password_field)
    return user, password


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refused_registration_is_visible_backs_off_and_does_not_raise(
    case: str, auth_nacos: tuple[OwnNacos, Users], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, users = auth_nacos
    caplog.set_level(logging.DEBUG, logger="dubbo_recsys.registry")
    username, password = credentials(users, case)
    api = TokenOpenApi(server.addr, users.admin_token)
    service = exported()
    name = f"providers:{service.interface}::"
    started = time.monotonic()
    registry = await NacosRegistry.connect(settings_for(url_for(server.addr, username, password), tmp_path))
    try:
        await registry.register(service)  # refused: must neither raise nor hang
        assert time.monotonic() - started < 10
        assert registry.registered() == {name: False}
        await asyncio.sleep(2.5)  # 12 keeper checks at 0.2 s; with backoff, attempts at ~0 and 1 s
        assert registry.registered() == {name: False}
        assert api.instances(name) == []

        refusals = [
            r
            for r in caplog.records
            if r.name == "dubbo_recsys.registry.nacos" and "refused registering" in r.getMessage()
        ]
        errors = [r for r in refusals if r.levelno == logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]  # said once, clearly
        assert REFUSALS[case][2] in errors[0].getMessage() and name in errors[0].getMessage()
        if username:
            assert repr(username) in errors[0].getMessage()
        assert 2 <= len(refusals) <= 3, [r.getMessage() for r in refusals]  # retried, but backing off
    finally:
        closing = time.monotonic()
        await registry.close()
        assert time.monotonic() - closing < 5
    if password:
        assert_secret_free(password, caplog, tmp_path / "sdk")
    assert_secret_free(users.password, caplog, tmp_path / "sdk")


@pytest.mark.asyncio
async def test_a_refused_record_is_registered_once_permission_is_granted(
    auth_nacos: tuple[OwnNacos, Users], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The backoff keeps retrying: grant the missing role and the record appears within the backoff delay."""
    server, users = auth_nacos
    caplog.set_level(logging.INFO, logger="dubbo_recsys.registry")
    user, password = f"late-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    admin_call(server.addr, users.admin_token, "POST", "/v3/auth/user", {"username": user, "password": password})
    api = TokenOpenApi(server.addr, users.admin_token)
    service = exported()
    name = f"providers:{service.interface}::"
    registry = await NacosRegistry.connect(settings_for(url_for(server.addr, user, password), tmp_path))
    try:
        await registry.register(service)
        assert registry.registered() == {name: False}
        await asyncio.to_thread(
            admin_call,
            server.addr,
            users.admin_token,
            "POST",
            "/v3/auth/role",
            {"role": f"role-{user}", "username": user},
        )
        await asyncio.to_thread(
            admin_call,
            server.addr,
            users.admin_token,
            "POST",
            "/v3/auth/permission",
            {"role": f"role-{user}", "resource": "public:*:*", "action": "rw"},
        )
        granted = time.monotonic()
        hosts = await asyncio.to_thread(wait_for, lambda: api.instances(name), bool, 40)
        assert len(hosts) == 1 and time.monotonic() - granted < 40
        assert registry.registered() == {name: True}
        assert any("registered" in r.getMessage() and "refused it before" in r.getMessage() for r in caplog.records)
    finally:
        await registry.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("case", ["wrong-password", "no-credentials"])
async def test_refused_config_reads_fall_back_and_say_why(
    case: str, auth_nacos: tuple[OwnNacos, Users], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, users = auth_nacos
    caplog.set_level(logging.INFO, logger="dubbo_recsys.registry")
    username, password = credentials(users, case)
    api = TokenOpenApi(server.addr, users.admin_token)
    assert api.publish_config("home", "infer", text(seed_style(dataId="home", group="infer", version="in-nacos")))
    fallback = tmp_path / "fallback"
    (fallback / "infer").mkdir(parents=True)
    (fallback / "infer" / "home.json").write_text(text(seed_style(dataId="home", group="infer", version="file")))
    settings = settings_for(url_for(server.addr, username, password), tmp_path)
    center = await NacosConfigCenter.connect(settings, LocalConfigCenter(fallback))
    try:
        assert (await center.get("home", "infer")).version == "file"  # served, from the file
        assert center.stats.fallbacks == 1
        with pytest.raises(RegistryUnavailableError, match=REFUSALS[case][2]):
            await center.get("elsewhere", "infer")
        errors = [
            r.getMessage()
            for r in caplog.records
            if r.levelno >= logging.ERROR and r.name.startswith("dubbo_recsys.registry")
        ]
        assert len(errors) == 1 and REFUSALS[case][2] in errors[0] and "home" in errors[0], errors
    finally:
        await center.close()
    if password:
        assert_secret_free(password, caplog, tmp_path / "sdk")


@pytest.mark.asyncio
async def test_serve_with_a_wrong_password_keeps_serving(auth_nacos: tuple[OwnNacos, Users], tmp_path: Path) -> None:
    """The whole provider: it serves, says why it is not in Nacos, never prints the password, stops cleanly."""
    from dubbo_recsys.provider.client import DubboClient
    from tests.provider.test_lifecycle import start

    server, users = auth_nacos
    wrong = f"{users.password}-wrong"
    url = url_for(server.addr, users.user, wrong)
    proc, port = start("-m", "dubbo_recsys.provider.cli", "serve", "--port", "0", "--registry", url)
    try:
        async with await DubboClient.connect("127.0.0.1", port) as client:
            assert await client.echo("com.loki.www.infer.DubbogoInferService", "up") == "up"
        await asyncio.sleep(1.0)
        async with await DubboClient.connect("127.0.0.1", port) as client:
            assert await client.echo("com.loki.www.infer.DubbogoInferService", "still") == "still"
        api = TokenOpenApi(server.addr, users.admin_token)
        assert api.instances("providers:com.loki.www.infer.DubbogoInferService::") == []
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = await asyncio.to_thread(proc.communicate, timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    output = stdout + stderr
    assert "authentication failed: Nacos refused the login of user" in output, output[-2000:]
    assert wrong not in output and urllib.parse.quote(wrong, safe="") not in output


@pytest.mark.asyncio
async def test_no_password_in_the_server_access_log(auth_nacos: tuple[OwnNacos, Users], tmp_path: Path) -> None:
    """The SDK's own login puts the password in the URL (which Nacos's access log records); ours posts a body."""
    server, users = auth_nacos
    wrong = users.password + "-wrong"
    for label, password in (("good", users.password), ("wrong", wrong)):
        registry = await NacosRegistry.connect(
            settings_for(url_for(server.addr, users.user, password), tmp_path / label)
        )
        try:
            await registry.register(exported())
            assert list(registry.registered().values()) == [label == "good"]
        finally:
            await registry.close()
    logs = sorted((server.home / "logs").glob("access_log*"))
    assert logs, "the auth-enabled test server writes no access log"
    text_ = "".join(path.read_text(errors="replace") for path in logs)
    assert "POST /nacos/v1/auth/users/login" in text_  # the SDK's login is there, so the check means something
    for secret in (users.password, wrong, users.no_role_password, users.admin_password):
        for spelling in (secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)):
            assert spelling not in text_


@pytest.mark.java
def test_java_consumer_discovers_serve_through_auth_nacos(auth_nacos: tuple[OwnNacos, Users], tmp_path: Path) -> None:
    """An unmodified Dubbo 3.3 consumer with its own read-only user finds ``dubbo-recsys serve`` (registered
    with the provider's read/write user, ``register-mode=instance``) and calls RecommenderInfer; with a user
    without a role it never gets an address: its start-up fails, or, with that check off, no provider."""
    require_env("REGISTRY_JAVA_CONSUMER")  # before starting anything
    server, users = auth_nacos
    api = TokenOpenApi(server.addr, users.admin_token)
    suffix = uuid.uuid4().hex[:6]
    reader, reader_password = f"java-reader-{suffix}", secrets.token_urlsafe(12)
    token = users.admin_token
    admin_call(server.addr, token, "POST", "/v3/auth/user", {"username": reader, "password": reader_password})
    admin_call(server.addr, token, "POST", "/v3/auth/role", {"role": f"role-{reader}", "username": reader})
    admin_call(
        server.addr,
        token,
        "POST",
        "/v3/auth/permission",
        {"role": f"role-{reader}", "resource": "public:*:*", "action": "r"},
    )  # read only
    application = f"recsys-auth-{suffix}"
    port = free_port()
    log_path = tmp_path / "serve.log"
    with registered_provider(url_for(server.addr, users.user, users.password), application, port, log_path) as provider:
        hosts = wait_for(lambda: api.instances(application), bool, 30)
        assert [(h["ip"], h["port"]) for h in hosts] == [("127.0.0.1", port)]

        code, result, output = java_consumer(f"nacos://{server.addr}?username={reader}&password={reader_password}", 60)
        assert code == 0 and result.startswith("RESULT"), (result, output)
        assert "code=200" in result and "class=com.loki.www.infer.RecResponse" in result, result

        # Without a role, Dubbo's default start-up check (a config read) is refused and start() throws.
        no_role = f"nacos://{server.addr}?username={users.no_role_user}&password={users.no_role_password}"
        code, result, output = java_consumer(no_role + "&nacos.retry=1", 10)
        assert code == 1 and result == "", (result, output[-3000:])
        assert "Failed to create nacos config service client" in output, output[-3000:]
        assert "Code: 403, Message: authorization failed" in output, output[-3000:]
        # Past that check (nacos.check=false) it subscribes but is given no provider.
        code, result, output = java_consumer(no_role + "&nacos.check=false", 8)
        assert code == 1 and result.startswith("FAILED"), (result, output[-3000:])
        assert "No provider available" in result and "invokers: 0[]" in result, result
        assert "Code: 403, Message: authorization failed" in output, output[-3000:]
        assert users.no_role_password not in result
    assert provider.returncode == 0, log_path.read_text()[-3000:]
    assert wait_for(lambda: api.instances(application), lambda h: not h, 15) == []
