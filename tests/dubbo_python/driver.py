"""Call a provider with ``dubbo-python`` 0.0.4 (PyPI), an independent Python client, and
print what came back as one JSON document.

``python -m tests.dubbo_python.driver HOST:PORT``. The test runs this in a child process
on purpose: at import, dubbo-python starts two daemon threads and a process-wide
connection pool, and its reader thread spins at 100 % CPU whenever the pool holds no
connection, e.g. after the provider closed it. A child process ends all of that.

What 0.0.4 can and cannot do, found while writing this:

- ``from dubbo.client import DubboClient`` fails: ``dubbo/nacos.py`` imports
  ``nacos.client``, which nacos-sdk-python 3.x (this project's Nacos client) no longer
  ships. Its direct-host mode, ``DubboClient(host=...).call``, is nothing but
  ``connection_pool.get(host, request, timeout)``, so that is what is called here.
- it cannot encode a map (``HessianTypeError``), so ``RecommendRequest.context`` stays unset;
- it reads only result flags 0/1/2, so it must announce a dubbo version outside
  2.0.2..2.0.99 (its default ``2.4.10``); with ``2.0.2`` every provider, Java's too,
  answers with attachments (flag 4) and 0.0.4 fails with a TypeError of its own.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dubbo.codec.encoder import Object
from dubbo.connection.connections import connection_pool

RECOMMEND = "org.dubborecsys.api.RecommendService"
SEED = "com.loki.www.infer.DubbogoInferService"
DUBBO_VERSION = "2.4.10"  # dubbo-python's own default; see the module docstring
TIMEOUT = 10


def call(host: str, path: str, version: str, method: str, *args: Any) -> Any:
    request = {
        "dubbo_version": DUBBO_VERSION,
        "version": version,
        "path": path,
        "method": method,
        "arguments": list(args),
    }
    return connection_pool.get(host, request, TIMEOUT)


def recommend_request(user_id: str, count: int, exposed: list[str] | None = None) -> Object:
    # no "context": 0.0.4 cannot encode a map
    fields = {"userId": user_id, "scene": "home", "count": count, "exposureList": exposed or [], "debug": False}
    return Object("org.dubborecsys.api.RecommendRequest", fields)


def rec_request(user_id: str, data_id: str) -> Object:
    return Object("com.loki.www.infer.RecRequest", {"userId": user_id, "dataId": data_id})


def main(host: str) -> dict[str, Any]:
    recommend = call(host, RECOMMEND, "1.0.0", "recommend", recommend_request("py-1", 3))
    first = recommend["items"][0]["itemId"]
    users = [f"py-thread-{n}" for n in range(8)]
    alone = {
        user: call(host, RECOMMEND, "1.0.0", "recommend", recommend_request(user, 2))["requestId"] for user in users
    }

    def burst(user: str) -> list[str]:
        return [call(host, RECOMMEND, "1.0.0", "recommend", recommend_request(user, 2))["requestId"] for _ in range(10)]

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        together = dict(zip(users, pool.map(burst, users), strict=True))
    return {
        "recommend": recommend,
        "recommend_exposed": call(host, RECOMMEND, "1.0.0", "recommend", recommend_request("py-1", 3, [first])),
        "recommend_bad_count": call(host, RECOMMEND, "1.0.0", "recommend", recommend_request("py-1", 0)),
        "infer_upper": call(host, SEED, "", "RecommenderInfer", rec_request("py-1", "home")),
        "infer_lower": call(host, SEED, "", "recommenderInfer", rec_request("py-1", "home")),
        "infer_missing": call(host, SEED, "", "RecommenderInfer", rec_request("py-1", "")),
        "echo": call(host, RECOMMEND, "1.0.0", "$echo", "héllo 世界"),
        "alone": alone,
        "together": together,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), ensure_ascii=False))
    sys.stdout.flush()
