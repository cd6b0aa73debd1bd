"""Call a dubbo:// provider once and print the answer as JSON: ``dubbo-recsys call``.

Arguments are JSON values; a JSON object with a ``"class"`` key is a Java object of
that class (bound Python classes from ``interfaces`` are used when they exist, so
field widths come out as Java declares them). ``--types`` gives the Java parameter
types; without it they are guessed from the arguments (``"class"``, String, long,
double, boolean, List, Map). Examples::

    dubbo-recsys call org.dubborecsys.api.RecommendService recommend --version 1.0.0 \\
        '{"class": "org.dubborecsys.api.RecommendRequest", "userId": "u1", "count": 3}'
    dubbo-recsys call com.loki.www.infer.DubbogoInferService '$echo' '"hello"'
    dubbo-recsys call --generic --types com.loki.www.infer.RecRequest \\
        com.loki.www.infer.DubbogoInferService RecommenderInfer \\
        '{"class": "com.loki.www.infer.RecRequest", "userId": "u", "dataId": "d"}'

Options go before the interface name (the JSON arguments run to the end).

Exit status: 0 answered with a value, 1 the provider refused or threw (the error is
printed as JSON too), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("interface", help="Java interface, e.g. org.dubborecsys.api.RecommendService")
    parser.add_argument("method", help="method name ($echo works on every service)")
    parser.add_argument("args", nargs="*", help="arguments, one JSON value each")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=20880)
    parser.add_argument("--version", default="", help="service version (empty = none)")
    parser.add_argument("--group", default="", help="service group (empty = none)")
    parser.add_argument("--types", default="", help="comma-separated Java parameter types")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    parser.add_argument("--generic", action="store_true", help="call through $invoke (GenericService)")


def guess_type(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("class") or "java.util.Map")
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, list):
        return "java.util.List"
    return "java.lang.Object"


def to_java(value: Any, type_name: str = "") -> Any:
    """JSON -> values the codec writes as Java expects (bound classes when known)."""
    from dubbo_recsys.provider.convert import converter_for
    from hessian2 import JavaGenericObject, Long, bound_classes

    if isinstance(value, dict):
        java_class = value.get("class")
        fields = {k: to_java(v) for k, v in value.items() if k != "class"}
        if isinstance(java_class, str) and java_class:
            bound = bound_classes().get(java_class)
            if bound is not None:
                return converter_for(bound)(fields)
            return JavaGenericObject(java_class, fields)
        return fields
    if isinstance(value, list):
        return [to_java(v) for v in value]
    if type_name in ("long", "java.lang.Long") and isinstance(value, int) and not isinstance(value, bool):
        return Long(value)
    return value


def to_json(value: Any) -> Any:
    from hessian2 import to_generic

    value = to_generic(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def run(args: argparse.Namespace) -> int:
    import asyncio

    import dubbo_recsys.interfaces.recommend
    import dubbo_recsys.interfaces.seed  # noqa: F401 - binds the seed's Java classes for decoding
    from dubbo_recsys.provider.client import DubboClient
    from dubbo_recsys.provider.config import ClientConfig
    from dubbo_recsys.provider.errors import ConfigError, ProviderError, RemoteApplicationError, RemoteStatusError

    try:
        values = [json.loads(text) for text in args.args]
    except json.JSONDecodeError as exc:
        print(f"dubbo-recsys call: an argument is not JSON: {exc}", file=sys.stderr)
        return 2
    types = [t.strip() for t in args.types.split(",") if t.strip()] or [guess_type(v) for v in values]
    if args.method == "$echo":
        types = ["java.lang.Object"]
    if len(types) != len(values):
        print(f"dubbo-recsys call: {len(types)} types for {len(values)} arguments", file=sys.stderr)
        return 2
    try:
        config = ClientConfig(timeout=args.timeout, connect_timeout=args.timeout)
    except ConfigError as exc:
        print(f"dubbo-recsys call: {exc}", file=sys.stderr)
        return 2

    async def main() -> Any:
        async with await DubboClient.connect(args.host, args.port, config) as client:
            if args.generic:
                return await client.generic_invoke(
                    args.interface,
                    args.method,
                    types,
                    [to_java(v) for v in values],
                    version=args.version,
                    group=args.group,
                )
            return await client.call(
                args.interface,
                args.method,
                [to_java(v, t) for v, t in zip(values, types, strict=True)],
                parameter_types=types,
                version=args.version,
                group=args.group,
            )

    try:
        result = asyncio.run(main())
    except RemoteStatusError as exc:
        print(json.dumps({"status": exc.status, "error": exc.message}))
        return 1
    except RemoteApplicationError as exc:
        print(json.dumps({"status": 20, "exception": to_json(exc.exception)}))
        return 1
    except (ProviderError, OSError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps(to_json(result), ensure_ascii=False))
    return 0
