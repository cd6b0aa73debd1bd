"""The one place that imports nacos-sdk-python (3.x, asyncio over gRPC on HTTP port + 1000).

Why a module of its own: the SDK is an optional dependency (``pip install dubbo-recsys[nacos]``), it
lives under the top-level package name ``v2``, and importing it emits pydantic deprecation warnings from
its own models that would fail a ``filterwarnings = error`` test run. Importing it here, once, inside a
warnings guard, keeps every other module free of those concerns, and a missing SDK becomes a
``RegistryUnavailableError`` that says what to install.

The SDK adds a file handler to the ``naming`` / ``config`` logger for every client it builds; a client
is closed through ``close_client`` here, which also removes the handlers that client added.

One SDK behaviour is replaced here (``_login_with_form_body``): nacos-sdk-python 3.2 logs in with the
username and password in the login URL's query string, which a Nacos server with the Tomcat access log on
(the zip distribution's default, pattern ``%r``) writes to its ``access_log``; we send them as a form body.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from dubbo_recsys.registry.errors import RegistryUnavailableError

__all__ = [
    "LoggerHandlers",
    "auth_problem",
    "client_config",
    "nacos_sdk",
    "naming_client_config",
    "settings_client_config",
    "start_with_backoff",
    "wake_config_client",
]

log = logging.getLogger(__name__)


@functools.cache  # a failed import is not cached: it is tried again on the next call
def nacos_sdk() -> ModuleType:
    """The ``v2.nacos`` module of nacos-sdk-python, imported once."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import v2.nacos as sdk
    except ImportError as exc:
        raise RegistryUnavailableError(
            "nacos-sdk-python 3.x is not installed: pip install 'dubbo-recsys[nacos]'"
        ) from exc
    _login_with_form_body()
    module: ModuleType = sdk  # untyped: nacos-sdk-python ships no types
    return module


def _login_with_form_body() -> None:
    """Make the SDK's ``AuthClient`` post the credentials as a form body, not in the URL's query string.

    Why: the SDK (3.2) calls ``POST /nacos/v1/auth/users/login?username=..&password=..``; Nacos's access
    log records request lines with their query, so every provider start wrote the password into the
    server's ``access_log``. Nacos reads the same parameters from an urlencoded body. The replacement keeps
    the SDK's contract: the same attributes (``access_token``, ``token_ttl``, ``token_expired_time``),
    the same ``NacosException`` ("get access token failed") when no server accepts the login, and it does
    not log the token. If the SDK's ``AuthClient`` no longer looks as expected, it is left alone (and the
    test that checks the access log fails).
    """
    try:
        from v2.nacos.common.nacos_exception import SERVER_ERROR, NacosException
        from v2.nacos.transport.auth_client import AuthClient
    except ImportError:
        return
    if getattr(AuthClient, "_form_body_login", False) or not hasattr(AuthClient, "get_access_token"):
        return

    async def get_access_token(self: Any, force_refresh: bool = False) -> Any:
        now = time.time()
        expires = getattr(self, "token_expired_time", None)
        if self.access_token and not force_refresh and expires is not None and expires > now:
            return self.access_token
        body = {"username": self.username, "password": self.password}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        prefix = self.client_config.build_context_prefix()
        for server in self.get_server_list():
            url = f"{server}{prefix}/v1/auth/users/login"
            answer, error = await self.http_agent.request(url, "POST", headers, None, body)
            if not answer or error:
                self.logger.warning("[get-access-token] login at %s failed: %s", url, error)
                continue
            reply = json.loads(answer.decode("utf-8"))
            self.access_token = reply.get("accessToken")
            self.token_ttl = reply.get("tokenTtl", 18000)
            self.token_expired_time = now + self.token_ttl - 10
            return self.access_token
        raise NacosException(SERVER_ERROR, "get access token failed")

    AuthClient.get_access_token = get_access_token
    AuthClient._form_body_login = True


def client_config(
    server_addresses: str,
    *,
    namespace: str,
    username: str,
    password: str,
    work_dir: Path | None,
    timeout_s: float = 5.0,
) -> Any:
    """A ``ClientConfig`` for naming or config clients; SDK logs and cache go under ``work_dir``."""
    sdk = nacos_sdk()
    builder = sdk.ClientConfigBuilder().server_address(server_addresses).namespace_id(namespace or "")
    if username:
        builder = builder.username(username).password(password)
    if work_dir is not None:
        builder = builder.log_dir(str(Path(work_dir) / "logs")).cache_dir(str(Path(work_dir) / "cache"))
    builder = builder.timeout_ms(int(timeout_s * 1000)).log_level(logging.WARNING)
    return builder.build()


def settings_client_config(settings: Any) -> Any:
    """``client_config`` from a ``registry.url.NacosSettings`` (its addresses, namespace, credentials, work
    directory and request timeout): what every client we open from a registry URL uses."""
    return client_config(
        settings.server_addresses,
        namespace=settings.namespace,
        username=settings.username,
        password=settings.password,
        work_dir=settings.work_dir,
        timeout_s=settings.request_timeout,
    )


def naming_client_config(
    server_addresses: str, *, namespace: str, username: str, password: str, work_dir: Path | None
) -> Any:
    """Shorthand kept for tests that drive the SDK directly."""
    return client_config(server_addresses, namespace=namespace, username=username, password=password, work_dir=work_dir)


class LoggerHandlers:
    """Remembers the handlers of one SDK logger before a client is built, to remove the new ones later."""

    def __init__(self, logger_name: str) -> None:
        self._logger = logging.getLogger(logger_name)
        self._before = list(self._logger.handlers)

    def release(self) -> None:
        for handler in list(self._logger.handlers):
            if handler not in self._before:
                self._logger.removeHandler(handler)
                handler.close()


T = TypeVar("T")


async def start_with_backoff(
    what: str, logger_name: str, settings: Any, start: Callable[[Any], Awaitable[T]]
) -> tuple[T, LoggerHandlers]:
    """Run ``start(client_config)`` until it succeeds, waiting 1, 2, 4 ... 30 s between attempts.

    Why: the SDK's ``create_*_service`` raises while Nacos is unreachable at start-up (and some of
    its follow-up calls do too), but a provider must come up without Nacos and register once it is
    back. Each attempt records the ``logger_name`` handlers the SDK adds and releases them when the
    attempt fails, so retries do not pile up file handlers. ``settings`` is a
    ``registry.url.NacosSettings``. Returns what ``start`` returned and the handlers to release at
    close. Cancel the calling task to give up.
    """
    delay = 1.0
    while True:
        handlers = LoggerHandlers(logger_name)
        try:
            config = settings_client_config(settings)
            return await start(config), handlers
        except Exception as exc:
            handlers.release()
            log.error(
                "nacos %s for %s failed to start (%s: %s); retrying in %.0f s",
                what,
                settings.server_addresses,
                type(exc).__name__,
                exc,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)


def wake_config_client(client: Any) -> None:
    """Wake a config client's listen loop now instead of at its next 5 s tick.

    Until that loop runs, the server does not know about a newly watched dataId (its first change
    would arrive up to 5 s late), and ``shutdown`` waits for the same tick. Java's client listens at
    once on ``addListener``; the Python SDK only wakes on this internal queue, so we put the wake-up
    there ourselves, if the SDK still has it.
    """
    channel = getattr(getattr(client, "grpc_client_proxy", None), "execute_config_listen_channel", None)
    if isinstance(channel, asyncio.Queue):
        channel.put_nowait(None)


def auth_problem(exc: BaseException, username: str, namespace: str) -> str | None:
    """What an SDK error says about authentication, in words an operator can act on; None if not auth.

    The SDK reports the three ways an auth-enabled Nacos (``nacos.core.auth.enabled=true``) refuses us
    as a ``NacosException``: a refused login as ``Error [500]: get access token failed`` (it logs in over
    HTTP ``/v1/auth/users/login`` before each request while it has no token; wrong username or password,
    or that HTTP port unreachable), a request without a valid token as ``Error [403]: Code: 401 ...``
    (no credentials configured: the SDK then sends none), and a user without the right role as
    ``Error [403]: Code: 403, Message: authorization failed!``. Never includes the password.
    """
    code = getattr(exc, "error_code", None)
    message = str(getattr(exc, "message", "") or exc)
    if code == 500 and "access token" in message:
        return f"authentication failed: Nacos refused the login of user {username!r} (wrong username or password?)"
    if code not in (401, 403):
        return None
    if "Code: 403" in message or "authorization failed" in message:
        return (
            f"authorization failed: user {username!r} lacks permission in namespace "
            f"{namespace or 'public'!r} (grant its role read/write on '{namespace or 'public'}:*:*')"
        )
    if not username:
        return (
            "authentication required: Nacos has auth enabled and the registry URL has no "
            "username/password (add ?username=..&password=..)"
        )
    return f"authentication failed: Nacos rejected the credentials of user {username!r} ({message})"
