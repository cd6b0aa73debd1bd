"""Run the Dubbo provider: ``dubbo-recsys serve``.

Exports ``org.dubborecsys.api.RecommendService:1.0.0`` and the seed system's
``com.loki.www.infer.DubbogoInferService`` over dubbo:// + hessian2, answered by the
popularity recommender until a pipeline is configured; or, with ``--app
package.module:attr``, a user's own services (``provider.importer``), with the same
registry, workers, REST/metrics/console and graceful shutdown. Prints
``listening dubbo://HOST:PORT`` once every worker accepts connections (scripts wait
for that line). SIGTERM or SIGINT: READONLY to every consumer, drain, exit 0.

This module is the host around ``provider.server.Server`` (which leaves the loop,
logging and signals to its host): flags to configs, uvloop, the log format, the
signal handlers, worker processes. Like a Java provider it binds every interface
(``0.0.0.0``) and registers this machine's address unless ``--host`` restricts it.

``--workers N`` forks N processes that share the port through SO_REUSEPORT, so the
kernel spreads connections over them (one event loop per core); ``provider.supervisor``
reaps a worker that dies and starts a replacement (backoff from 0.5 s to 30 s). ``--tf-threads``
(default 1) is how many threads TensorFlow uses per worker: with a worker per core,
more threads only compete with the other workers (``rank.tf_ranker``).

``--registry nacos://HOST:PORT`` publishes both services the way Java's NacosRegistry
does once the port listens, and withdraws them first on SIGTERM (``provider.registration``).

``--grpc-port`` also serves the gRPC shim (``provider.grpc_shim``) from the same
recommender, started once dubbo:// listens (``listening grpc://HOST:PORT`` is printed
before the dubbo line) and stopped before READONLY goes out.

``--rest-port`` also serves the REST shim (``provider.rest``: JSON inference, /metrics,
/console, /readyz) and counts dubbo:// and gRPC calls for it; ``listening http://HOST:PORT``
is printed once it accepts. With ``--workers N`` every worker serves it on that port
(SO_REUSEPORT, so it stays up while any worker lives) and on a Unix socket in a private
directory, and the /metrics a scrape reaches gathers every live worker's, labelled ``worker``
(``provider.observability.workers``); the console shows the worker that answered.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import socket
import sys
import tempfile
from typing import Any

DEFAULT_PORT = 20880


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app",
        default=None,
        metavar="MODULE:ATTR",
        help="serve these services instead of the built-in ones: a Service, a list of them or a factory "
        "(e.g. examples.catalog.provider:services)",
    )
    from dubbo_recsys.provider import server_options  # cheap: no asyncio server import

    server_options.add_arguments(parser)
    parser.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="event loop: uvloop when installed (auto), or force one",
    )
    parser.add_argument(
        "--tf-threads",
        type=int,
        default=1,
        help="threads TensorFlow computes one op with, and runs ops on, per worker (in-process "
        "ranker, user tower); 0 = TensorFlow's default, one per core (default 1: workers are "
        "the parallelism)",
    )
    group = parser.add_argument_group("registry")
    group.add_argument(
        "--registry",
        default="none",
        metavar="URL",
        help="publish the services: nacos://HOST:PORT[?namespace=..&group=..&unregister.wait=MS] "
        "(default none: direct connections)",
    )
    group.add_argument(
        "--application",
        default="",
        help="application name in the registry (default: dubbo-recsys, or the --app module's top package)",
    )
    group.add_argument(
        "--advertise-host",
        default="",
        metavar="HOST",
        help="address consumers dial (default: --host; for 0.0.0.0, $DUBBO_IP_TO_REGISTRY or this machine's address)",
    )
    group.add_argument(
        "--timeout-ms", type=int, default=3000, help="call timeout published for consumers to inherit (default 3000)"
    )
    group.add_argument(
        "--retries", type=int, default=2, help="retries published for consumers to inherit (default 2, as Java's)"
    )
    from dubbo_recsys.provider.grpc_shim import options as grpc_options  # cheap: no grpc import

    grpc_options.add_arguments(parser)
    from dubbo_recsys.provider.rest import options as rest_options  # cheap: no web framework import

    rest_options.add_arguments(parser)
    from dubbo_recsys.provider import app as pipeline_app  # cheap: the pipeline is imported when opened

    pipeline_app.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from dubbo_recsys.provider import server_options
    from dubbo_recsys.provider.app import AppConfigError, options_from_args
    from dubbo_recsys.provider.errors import ConfigError
    from dubbo_recsys.provider.grpc_shim import GrpcShimConfigError
    from dubbo_recsys.provider.grpc_shim import options as grpc_options
    from dubbo_recsys.provider.registration import RegistrationSettings
    from dubbo_recsys.provider.rest import RestShimConfigError
    from dubbo_recsys.provider.rest import options as rest_options

    if args.workers < 1 or args.workers > 64:
        print(f"dubbo-recsys serve: --workers must be in 1..64, got {args.workers}", file=sys.stderr)
        return 2
    if not 0 <= args.tf_threads <= 256:
        print(f"dubbo-recsys serve: --tf-threads must be in 0..256, got {args.tf_threads}", file=sys.stderr)
        return 2
    if args.app:
        problem = _app_problem(args)
        if problem:
            print(f"dubbo-recsys serve: {problem}", file=sys.stderr)
            return 2
    if args.tf_threads:  # read by TensorFlow when it starts, in each worker (none has imported it yet)
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(args.tf_threads)
    try:
        config = server_options.config_from_args(args)
        grpc_config = grpc_options.config_from_args(args, grace_seconds=args.drain_timeout)
        rest_config = rest_options.config_from_args(args)
        pipeline = options_from_args(args)
        registration = RegistrationSettings(
            url=args.registry,
            application=args.application or ("" if args.app else "dubbo-recsys"),
            host=args.advertise_host,
            timeout_ms=args.timeout_ms,
            retries=args.retries,
        )
        if registration.enabled:
            from dubbo_recsys.registry import RegistryURLError, parse_registry_url

            try:
                parse_registry_url(args.registry)
            except RegistryURLError as exc:
                raise ConfigError(str(exc)) from exc
    except (ConfigError, GrpcShimConfigError, RestShimConfigError, AppConfigError) as exc:
        print(f"dubbo-recsys serve: {exc}", file=sys.stderr)
        return 2
    extras = _Extras(grpc_config, registration if registration.enabled else None, rest_config, pipeline, args.app)
    if args.workers == 1:
        return _run_worker(config, extras, args.loop, ready_fd=None)
    return _run_workers(config, extras, args.loop, args.workers)


@dataclasses.dataclass(frozen=True)
class _Extras:
    """What runs beside dubbo:// in a worker: the gRPC shim, the registry and REST (first worker only)."""

    grpc: Any = None
    registration: Any = None
    rest: Any = None
    pipeline: Any = None  # provider.app.PipelineOptions
    app: str | None = None  # --app MODULE:ATTR, instead of the built-in services


def _app_problem(args: argparse.Namespace) -> str:
    """Why ``--app`` cannot run with these flags, or ``""``; imports the module to fail early."""
    from dubbo_recsys.provider.importer import AppLoadError, import_from_string

    builtin_only = [
        flag
        for flag, value in (
            ("--grpc-port", args.grpc_port),
            ("--artifacts", args.artifacts),
            ("--redis", args.redis_url),
            ("--scenes", args.scenes),
        )
        if value is not None and value != ""
    ]
    if builtin_only:
        return f"{', '.join(builtin_only)} configure the built-in recommender; they do not apply with --app"
    try:
        import_from_string(args.app)
    except AppLoadError as exc:
        return str(exc)
    return ""


def _announce(config: Any, port: int, contracts: Any, published: str = "") -> None:
    for contract in contracts:
        print(
            f"exported {contract.interface}{':' + contract.version if contract.version else ''}"
            f"{' group=' + contract.group if contract.group else ''} methods={','.join(contract.method_names)}",
            flush=True,
        )
    if published:
        print(f"published as dubbo://{published}", flush=True)
    print(f"listening dubbo://{config.host}:{port}", flush=True)


def _run_worker(config: Any, extras: _Extras, loop_choice: str, ready_fd: int | None) -> int:
    """One worker: the services (built-in or ``--app``), REST and the gRPC shim and registration when asked for."""
    from dubbo_recsys.provider.server import Server
    from dubbo_recsys.provider.transport import Lifecycle

    lifecycle = Lifecycle()
    if extras.rest is not None:
        _configure_observability(extras.rest)
    if extras.app:
        from dubbo_recsys.provider.importer import load_services

        services, rest, live_metadata = load_services(extras.app), extras.rest, None
    else:
        services, rest, live_metadata = _builtin_services(extras, lifecycle, ready_fd)
    server = Server(
        services,
        config,
        registry=extras.registration,
        rest=rest,
        lifecycle=lifecycle,
        registry_metadata=live_metadata,
    )
    if server.rest is not None and ready_fd is None:  # supervised workers: the supervisor announces

        async def announce_rest(_server: Any) -> None:
            print(f"listening http://{server.rest.config.host}:{server.rest.port}", flush=True)

        lifecycle.after_listening.append(announce_rest)
    return run_until_signalled(server, loop_choice, ready_fd)


def _rollout_metadata(recommender: Any) -> Any:
    """With --artifact-root: the Nacos metadata keys saying which version each worker serves (``artifacts.*``)."""
    if getattr(recommender.options, "rollout", None) is None:
        return None
    from dubbo_recsys.provider.rollout.state import instance_metadata

    def current() -> dict[str, str]:
        board = getattr(recommender.rollout, "board", None)
        return instance_metadata(board.workers()) if board is not None else {}

    return current


def _builtin_services(extras: _Extras, lifecycle: Any, ready_fd: int | None) -> tuple[list[Any], Any, Any]:
    """Our two services over one recommender (the pipeline, or the popularity list), the REST
    shim and gRPC shim over the same recommender when configured, and the live registry metadata."""
    from dubbo_recsys.provider.app import PipelineApp, PipelineOptions
    from dubbo_recsys.provider.services import default_services

    recommender = PipelineApp(extras.pipeline or PipelineOptions())

    async def open_pipeline(_server: Any) -> None:
        await recommender.open()

    async def close_pipeline(_server: Any) -> None:
        await recommender.close()

    lifecycle.before_listening.append(open_pipeline)
    lifecycle.after_close.append(close_pipeline)
    services = default_services(recommender)
    rest = None
    if extras.rest is not None:  # REST, /metrics and the console; counts dubbo:// and gRPC calls too
        from dubbo_recsys.provider.contract import export_of
        from dubbo_recsys.provider.rest import RestShim

        registry_url = extras.registration.url if extras.registration is not None else "none"
        rest = RestShim(recommender, extras.rest, [export_of(s) for s in services], registry_url=registry_url)
        services = default_services(rest.observed("dubbo", count_calls=False))  # spans, stage timings
    grpc_config = extras.grpc
    if grpc_config is not None:
        from dubbo_recsys.provider.grpc_shim import run_beside

        shim = run_beside(lifecycle, rest.observed("grpc") if rest else recommender, grpc_config)

        async def announce_grpc(_server: Any) -> None:
            if ready_fd is None:
                print(f"listening grpc://{grpc_config.host}:{shim.port}", flush=True)

        lifecycle.after_listening.append(announce_grpc)
    return services, rest, _rollout_metadata(recommender)


def _configure_observability(rest: Any) -> None:
    """JSON logs and OTLP tracing, as the REST config says: the host's business, not the server's."""
    settings = rest.observability
    if settings.json_logs:
        from dubbo_recsys.provider.observability.logs import configure_json_logs

        configure_json_logs()
    if settings.otlp_endpoint:
        from dubbo_recsys.provider.observability.tracing import configure_tracing

        configure_tracing(settings.otlp_endpoint)


def run_until_signalled(server: Any, loop_choice: str = "auto", ready_fd: int | None = None) -> int:
    """Host ``server`` (a ``provider.server.Server``) until SIGTERM/SIGINT, then stop it gracefully.

    What a host application does around the embeddable server: the log format, uvloop,
    the signal handlers. Prints the ``listening`` line when ready, or writes the port to
    ``ready_fd`` when this process is a forked worker. Reusable by tests and other entry points.
    """
    import asyncio
    import logging

    from dubbo_recsys.provider.transport import install_uvloop

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    logging.getLogger("dubbo_recsys.provider.rollout").setLevel(logging.INFO)  # each swap is worth a line
    if loop_choice != "asyncio" and not install_uvloop() and loop_choice == "uvloop":
        print("dubbo-recsys serve: uvloop is not installed (pip install dubbo-recsys[speed])", file=sys.stderr)
        return 2
    # a signal that arrives before the loop runs must still mean "stop cleanly"
    early: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: early.append(received))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})  # a supervised worker starts blocked

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if early:
            return
        try:
            await server.start()
        except Exception as exc:  # a taken port, or a hook (gRPC shim, registry) that cannot start
            failures.append(exc)
            return
        freeze_startup_objects()
        if ready_fd is None:
            published = server.address if server.address.rpartition(":")[0] != server.config.host else ""
            _announce(server.config, server.port, (e.contract for e in server.exports), published)
        else:  # a supervised worker: the supervisor announces once every worker is ready
            os.write(ready_fd, f"{os.getpid()} {server.port}\n".encode())
            os.close(ready_fd)
        await stop.wait()
        await server.stop()

    failures: list[Exception] = []
    asyncio.run(main())
    if failures:
        config = server.config
        print(f"dubbo-recsys serve: cannot start on {config.host}:{config.port}: {failures[0]}", file=sys.stderr)
        return 1
    return 0


def freeze_startup_objects() -> None:
    """Move what start-up left (modules, services, artifacts) out of the collector's sight.

    Without it every full collection walks them: a stream of requests whose decoding makes
    garbage (a 200-level nested body) set off one every few hundred ms, 6-15 ms each, in the
    one thread every caller waits on. What requests allocate is still collected."""
    import gc

    gc.collect()
    gc.freeze()


def _reserve_port(host: str) -> socket.socket:
    """A bound (not listening) SO_REUSEPORT socket: its port stays ours while the workers come and go
    (only listening sockets take connections, so it never steals one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, 0))
    return holder


def _run_workers(config: Any, extras: _Extras, loop_choice: str, workers: int) -> int:
    """``workers`` processes on one SO_REUSEPORT port each for dubbo://, gRPC and REST, kept running by
    ``provider.supervisor`` (a dead worker is reaped and replaced). Only worker 0 registers: one address,
    one registry record; a replacement worker 0 registers again."""
    from dubbo_recsys.provider.supervisor import Supervisor

    holders = []
    if config.port == 0:  # pick one port for all workers, held for as long as they run
        holders.append(_reserve_port(config.host))
        config = dataclasses.replace(config, port=holders[-1].getsockname()[1])
    grpc_config = extras.grpc
    if grpc_config is not None and grpc_config.port == 0:
        holders.append(_reserve_port(grpc_config.host))
        grpc_config = dataclasses.replace(grpc_config, port=holders[-1].getsockname()[1])
    rest = extras.rest
    if rest is not None and rest.port == 0:
        holders.append(_reserve_port(rest.host))
        rest = dataclasses.replace(rest, port=holders[-1].getsockname()[1])
    rest_configs, rest_dir = _worker_rest_configs(rest, workers)
    pipelines, rollout_dir = _worker_pipelines(extras.pipeline, workers)

    def worker(index: int, ready_fd: int) -> int:  # pragma: no cover - runs in the child
        for holder in holders:
            holder.close()
        worker_extras = dataclasses.replace(
            extras,
            grpc=grpc_config,
            registration=extras.registration if index == 0 else None,
            rest=rest_configs[index],
            pipeline=pipelines[index],
        )
        return _run_worker(config, worker_extras, loop_choice, ready_fd=ready_fd)

    def ready(pids: list[int]) -> None:
        if grpc_config is not None:
            print(f"listening grpc://{grpc_config.host}:{grpc_config.port}", flush=True)
        if rest is not None:
            print(f"listening http://{rest.host}:{rest.port}", flush=True)
        from dubbo_recsys.provider.registration import advertised_host

        published = ""
        if advertised_host(config.host)[1]:
            override = extras.registration.host if extras.registration is not None else ""
            published = f"{advertised_host(config.host, override)[0]}:{config.port}"
        _announce(config, config.port, _contracts(extras.app), published)
        print(f"workers {workers} pids {','.join(map(str, pids))}", flush=True)

    try:
        return Supervisor(workers, worker, on_ready=ready).run()
    finally:
        for holder in holders:
            holder.close()
        for directory in (rest_dir, rollout_dir):
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)


def _contracts(app: str | None) -> list[Any]:
    """The contracts to announce, known without running a user's factory (whose services
    only the workers make): the built-in ones, or what ``--app`` names when it is services
    or a ``Service`` class; nothing for a plain factory function."""
    from dubbo_recsys.provider.contract import contract_of
    from dubbo_recsys.provider.service import Service

    if not app:
        from dubbo_recsys.provider.services import RecommendService, SeedInferService

        return [contract_of(RecommendService), contract_of(SeedInferService)]
    from dubbo_recsys.provider.importer import import_from_string

    found = import_from_string(app)
    items = found if isinstance(found, (list, tuple)) else [found]
    if all(isinstance(i, Service) or (isinstance(i, type) and issubclass(i, Service)) for i in items):
        return [contract_of(i) for i in items]
    return []


def _worker_pipelines(pipeline: Any, workers: int) -> tuple[list[Any], str | None]:
    """Each worker's pipeline options: with --artifact-root, its label and a private directory shared by
    the workers (their rollout states, for the first worker to report, and the load lock)."""
    rollout = getattr(pipeline, "rollout", None)
    if rollout is None:
        return [pipeline] * workers, None
    directory = tempfile.mkdtemp(prefix="dubbo-recsys-rollout-")
    return [
        dataclasses.replace(pipeline, rollout=dataclasses.replace(rollout, state_dir=directory, worker=str(index)))
        for index in range(workers)
    ], directory


def _worker_rest_configs(rest: Any, workers: int) -> tuple[list[Any], str | None]:
    """Each worker's REST config: all on the configured port (SO_REUSEPORT, so REST and /metrics stay up
    while any worker lives), each also on a Unix socket of its own in a fresh private directory (returned,
    for removal at exit), where the others fetch its /metrics to gather every worker's in one scrape."""
    if rest is None:
        return [None] * workers, None
    directory = tempfile.mkdtemp(prefix="dubbo-recsys-workers-")
    sockets = [(str(index), os.path.join(directory, f"worker-{index}.sock")) for index in range(workers)]
    return [
        dataclasses.replace(
            rest,
            reuse_port=True,
            worker=label,
            unix_socket=path,
            sibling_sockets=tuple(other for other in sockets if other[0] != label),
        )
        for label, path in sockets
    ], directory
