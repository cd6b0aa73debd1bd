"""``dubbo-recsys serve``'s services, registered in a real Nacos for Java consumers to find.

``python -m tests.java_sample.nacos_provider --registry nacos://127.0.0.1:8848 [--port N]``
exports what ``dubbo-recsys serve`` exports, through the same ``serve_exports``, and
registers each service with ``registry.open_registry`` once the socket listens; on
SIGTERM it deregisters before READONLY and drain (INTEROP.md section 3 order).

Why it is here and not a ``serve`` flag: the serve command has no registry option
yet; this wires the provider and registry layers the way that option would, so the
Java discovery test can run today. Replace it with ``serve --registry`` when that lands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.serve import serve_exports
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Lifecycle
from dubbo_recsys.registry import ExportedService, Registry, open_registry, withdraw

APPLICATION = "dubbo-recsys-java-sample"


class Registration:
    """The two lifecycle hooks: register after listening, withdraw before READONLY."""

    def __init__(self, registry_url: str, exports: list[Any]) -> None:
        self._url = registry_url
        self._exports = exports
        self._registry: Registry | None = None
        self._services: list[ExportedService] = []

    async def register(self, server: Any) -> None:
        self._registry = await open_registry(self._url)
        for export in self._exports:
            spec = export.contract
            service = ExportedService(
                interface=spec.interface,
                methods=spec.method_names,
                host=server.config.host,
                port=server.port,
                application=APPLICATION,
                version=spec.version,
                group=spec.group,
            )
            await self._registry.register(service)
            self._services.append(service)

    async def withdraw(self, _server: Any) -> None:
        if self._registry is not None:
            await withdraw(self._registry, self._services)
            await self._registry.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nacos_provider", description=__doc__)
    parser.add_argument("--registry", required=True, help="nacos://host:port[?unregister.wait=ms]")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    args = parser.parse_args(argv)
    exports = default_exports(PopularRecommender())
    registration = Registration(args.registry, exports)
    lifecycle = Lifecycle(after_listening=[registration.register], before_readonly=[registration.withdraw])
    return serve_exports(exports, ServerConfig(host="127.0.0.1", port=args.port), lifecycle=lifecycle)


if __name__ == "__main__":
    sys.exit(main())
