"""A few calls of the Nacos HTTP Open API (v1), the view a Java operator or the console has.

The registry tests check what we write through the SDK's gRPC channel by reading it back through this
independent door, so a mistake shared by our code and the SDK cannot hide. Blocking urllib on purpose:
tests call it through ``asyncio.to_thread`` where an event loop runs.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class OpenApi:
    def __init__(self, addr: str, namespace: str = "") -> None:
        self.base = f"http://{addr}/nacos"
        self.namespace = namespace

    def _call(self, method: str, path: str, params: dict[str, str]) -> str:
        params = dict(params)
        if self.namespace:
            params.setdefault("namespaceId", self.namespace)
            params.setdefault("tenant", self.namespace)
        query = urllib.parse.urlencode(params)
        if method == "GET":
            request = urllib.request.Request(f"{self.base}{path}?{query}")
        else:
            request = urllib.request.Request(f"{self.base}{path}", data=query.encode(), method=method)
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()

    def instances(self, service: str, group: str = "DEFAULT_GROUP") -> list[dict[str, Any]]:
        body = self._call("GET", "/v1/ns/instance/list", {"serviceName": service, "groupName": group})
        return list(json.loads(body)["hosts"])

    def services(self, group: str = "DEFAULT_GROUP") -> list[str]:
        body = self._call("GET", "/v1/ns/service/list", {"pageNo": "1", "pageSize": "1000", "groupName": group})
        return list(json.loads(body)["doms"])

    def publish_config(self, data_id: str, group: str, content: str) -> bool:
        body = self._call("POST", "/v1/cs/configs", {"dataId": data_id, "group": group, "content": content})
        return body.strip() == "true"

    def get_config(self, data_id: str, group: str) -> str | None:
        try:
            return self._call("GET", "/v1/cs/configs", {"dataId": data_id, "group": group})
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 409):  # 409: Nacos is writing it ("being modified, please try later")
                return None
            raise

    def delete_config(self, data_id: str, group: str) -> bool:
        body = self._call("DELETE", "/v1/cs/configs", {"dataId": data_id, "group": group})
        return body.strip() == "true"

    def create_namespace(self, namespace_id: str) -> None:
        """Create a namespace through the 3.x admin API (idempotent)."""
        try:
            self._call(
                "POST",
                "/v3/admin/core/namespace",
                {"namespaceId": namespace_id, "namespaceName": namespace_id, "namespaceDesc": "tests"},
            )
        except urllib.error.HTTPError as exc:
            if "already exist" not in exc.read().decode(errors="replace"):
                raise


def wait_for(probe: Callable[[], T], accept: Callable[[T], bool], seconds: float, step: float = 0.2) -> T:
    """Poll ``probe`` until ``accept`` holds or ``seconds`` pass; return the last value either way."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if accept(value) or time.monotonic() >= deadline:
            return value
        time.sleep(step)
