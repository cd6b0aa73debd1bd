"""Command-line flags for running the REST shim (and /metrics, the console) beside dubbo://.

``dubbo-recsys serve`` calls ``add_arguments(parser)`` to gain the ``--rest-*``,
``--jwt-*`` and observability flags, and ``config_from_args(args)`` to turn them
into a ``RestShimConfig`` (or ``None`` when ``--rest-port`` is absent: no REST).
Secrets come from the environment by preference (``DUBBO_RECSYS_JWT_SECRET``,
``DUBBO_RECSYS_REST_USERS``), so they do not show in ``ps``. Cheap to import:
nothing here imports the web framework.
"""

from __future__ import annotations

import argparse
import os

from dubbo_recsys.provider.observability.config import ObservabilityConfig
from dubbo_recsys.provider.rest.config import DEFAULT_PORT, JwtConfig, LoginLimits, RestShimConfig, parse_users
from dubbo_recsys.provider.rest.errors import RestShimConfigError

SECRET_ENV = "DUBBO_RECSYS_JWT_SECRET"
USERS_ENV = "DUBBO_RECSYS_REST_USERS"
OTLP_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
_DEFAULTS = RestShimConfig()
_LIMITS = LoginLimits()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("REST shim, metrics and console")
    group.add_argument(
        "--rest-port",
        type=int,
        default=None,
        metavar="PORT",
        help=f"also serve HTTP: /recommend, /infer, /metrics, /console, /docs on PORT (usually {DEFAULT_PORT}; "
        "0 = any free port; default: no REST). With --workers N every worker serves it (SO_REUSEPORT) "
        "and /metrics gathers every worker's, labelled worker",
    )
    group.add_argument("--rest-host", default=None, metavar="HOST", help="address for REST (default: --host)")
    group.add_argument(
        "--jwt-secret",
        default=None,
        metavar="SECRET",
        help=f"turn on JWT login (HS256, >= 32 bytes); prefer ${SECRET_ENV}. Default: no authentication",
    )
    group.add_argument(
        "--rest-users",
        default=None,
        metavar="NAME:PASSWORD[:ROLE],...",
        help=f"who may POST /login (role user or admin); prefer ${USERS_ENV}",
    )
    group.add_argument("--jwt-ttl", type=int, default=3600, metavar="SECONDS", help="token lifetime (default 3600)")
    group.add_argument(
        "--login-failures-per-address",
        type=float,
        default=_LIMITS.per_address_per_minute,
        metavar="N",
        help="failed logins a minute one client address may make before 429 + Retry-After "
        f"(default {_LIMITS.per_address_per_minute:g}; see provider/rest/throttle.py)",
    )
    group.add_argument(
        "--login-failures-per-user",
        type=float,
        default=_LIMITS.per_user_per_minute,
        metavar="N",
        help="failed logins a minute for one user over all addresses, except those it logged in from "
        f"within a day (default {_LIMITS.per_user_per_minute:g})",
    )
    group.add_argument(
        "--rest-max-connections",
        type=int,
        default=_DEFAULTS.max_connections,
        metavar="N",
        help="open HTTP connections; at the limit the one waiting longest for its request is closed "
        f"(default {_DEFAULTS.max_connections})",
    )
    group.add_argument(
        "--rest-max-requests",
        type=int,
        default=_DEFAULTS.max_concurrent_requests,
        metavar="N",
        help="HTTP requests handled at once; beyond it 503 + Retry-After (never for /healthz, /readyz) "
        f"(default {_DEFAULTS.max_concurrent_requests})",
    )
    group.add_argument(
        "--rest-request-timeout",
        type=float,
        default=_DEFAULTS.request_timeout,
        metavar="SECONDS",
        help=f"a request (head and body) must arrive within this (default {_DEFAULTS.request_timeout:g})",
    )
    group.add_argument("--no-rest-explain", action="store_true", help="refuse ?explain=true (per-stage traces)")
    group.add_argument("--no-console", action="store_true", help="do not serve /console")
    group.add_argument(
        "--otlp-endpoint",
        default=None,
        metavar="URL",
        help=f"export OpenTelemetry spans over OTLP/HTTP to URL (or ${OTLP_ENV}); default: not exported",
    )
    group.add_argument("--json-logs", action="store_true", help="log JSON lines carrying the request id")
    group.add_argument(
        "--trace-every",
        type=int,
        default=16,
        metavar="N",
        help="record stage timings for one request in N (default 16; 0 = debug requests only)",
    )
    group.add_argument(
        "--console-step",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="the console's charts keep 15 minutes of samples taken every SECONDS (default 5)",
    )


def config_from_args(args: argparse.Namespace) -> RestShimConfig | None:
    """The shim's config from parsed flags; raises ``RestShimConfigError`` on bad values."""
    if args.rest_port is None:
        return None
    secret = args.jwt_secret or os.environ.get(SECRET_ENV, "")
    users_text = args.rest_users if args.rest_users is not None else os.environ.get(USERS_ENV, "")
    jwt = None
    if secret:
        jwt = JwtConfig(secret=secret, users=parse_users(users_text), ttl_seconds=args.jwt_ttl)
    elif users_text:
        raise RestShimConfigError(f"users are set but no JWT secret: pass --jwt-secret or set ${SECRET_ENV}")
    try:
        observability = ObservabilityConfig(
            otlp_endpoint=args.otlp_endpoint or os.environ.get(OTLP_ENV, ""),
            json_logs=bool(args.json_logs),
            trace_every=args.trace_every,
            history_step=args.console_step,
        )
    except ValueError as exc:
        raise RestShimConfigError(str(exc)) from exc
    limits = LoginLimits(
        per_address_per_minute=args.login_failures_per_address,
        per_address_burst=max(1, round(args.login_failures_per_address)),
        per_user_per_minute=args.login_failures_per_user,
        per_user_burst=max(1, round(args.login_failures_per_user)),
    )
    return RestShimConfig(
        host=args.rest_host or getattr(args, "host", None) or "127.0.0.1",
        port=args.rest_port,
        jwt=jwt,
        max_connections=args.rest_max_connections,
        max_concurrent_requests=args.rest_max_requests,
        request_timeout=args.rest_request_timeout,
        login_limits=limits,
        explain=not args.no_rest_explain,
        console=not args.no_console,
        observability=observability,
    )
