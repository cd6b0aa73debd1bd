"""The test Redis Cluster's nodes, for tests that change its shape (tests/ci/16-redis-cluster.sh starts it).

- ``TestCluster.from_env()``: the nodes of REDIS_CLUSTER_URL, each with the directory that holds
  the ``redis.conf`` it was started from (REDIS_CLUSTER_DIR).
- ``owner(slot)``, ``slots_of(node)``, ``masters()``, ``replica_of(master)``, ``healthy()`` /
  ``wait_healthy()``, ``agreed()`` / ``wait_agreed()``: what the nodes agree on.
- ``kill(node)`` (SIGKILL, as a crash), ``wait_promoted(slot, dead)`` and ``restart(node)``: a killed
  master's replica is promoted; the restarted node rejoins as a replica of the new master, so the
  cluster is whole again.
- ``move_slot(slot, target)``: a live resharding of one slot (MIGRATING/IMPORTING, MIGRATE of its
  keys, SETSLOT NODE), optionally stopped halfway so clients meet ``ASK``.

Blocking (redis-py's sync client): tests call it through ``asyncio.to_thread`` while a load runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support import require_env


@dataclass(frozen=True)
class Row:
    """One line of CLUSTER NODES."""

    id: str
    address: str
    flags: tuple[str, ...]
    master: str  # the master's id for a replica, "-" for a master
    slots: frozenset[int]

    @property
    def live(self) -> bool:
        return "fail" not in self.flags and "fail?" not in self.flags

    @property
    def serving_master(self) -> bool:
        return "master" in self.flags and self.live and bool(self.slots)


@dataclass(frozen=True)
class Node:
    host: str
    port: int
    dir: Path

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_timeout=2, socket_connect_timeout=1)


class TestCluster:
    __test__ = False  # not a test class

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes

    @classmethod
    def from_env(cls) -> TestCluster:
        url = require_env("REDIS_CLUSTER_URL")
        root = Path(require_env("REDIS_CLUSTER_DIR"))
        nodes = []
        for address in url.removeprefix("redis+cluster://").split("?")[0].split(","):
            host, port = address.rsplit(":", 1)
            nodes.append(Node(host, int(port), root / f"node-{port}"))
        return cls(nodes)

    def _ask(self, node: Node, *command: object) -> object:
        with node.client() as client:
            return client.execute_command(*command)

    def _view_of(self, node: Node) -> list[Row]:
        """CLUSTER NODES as ``node`` sees it."""
        text = self._ask(node, "CLUSTER", "NODES")
        rows = []
        for line in (text.decode() if isinstance(text, bytes) else str(text)).strip().splitlines():
            fields = line.split()
            slots: set[int] = set()
            for part in fields[8:]:
                if not part.startswith("["):  # "[slot->-id]": a slot being migrated
                    low, _, high = part.partition("-")
                    slots.update(range(int(low), int(high or low) + 1))
            rows.append(
                Row(fields[0], fields[1].split("@")[0], tuple(fields[2].split(",")), fields[3], frozenset(slots))
            )
        return rows

    def _view(self) -> list[Row]:
        """CLUSTER NODES as seen by the first node that answers."""
        for node in self.nodes:
            try:
                return self._view_of(node)
            except redis.RedisError:
                continue
        raise RuntimeError("no cluster node answers")

    def agreed(self) -> bool:
        """Every node that answers sees the same masters owning the same slots (gossip has converged:
        until it has, clients can be sent back and forth between two nodes with MOVED)."""
        views = set()
        for node in self.nodes:
            try:
                rows = self._view_of(node)
            except redis.RedisError:
                continue
            views.add(frozenset((row.address, row.slots) for row in rows if row.serving_master))
        return len(views) == 1

    def wait_agreed(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.agreed():
            if time.monotonic() > deadline:
                raise AssertionError(f"the test cluster's nodes disagree on the slots after {timeout} s")
            time.sleep(0.1)

    def node(self, address: str) -> Node:
        return next(n for n in self.nodes if n.name == address)

    def node_id(self, node: Node) -> str:
        answer = self._ask(node, "CLUSTER", "MYID")
        return answer.decode() if isinstance(answer, bytes) else str(answer)

    def masters(self) -> list[Node]:
        return [self.node(row.address) for row in self._view() if row.serving_master]

    def replica_of(self, master: Node) -> Node:
        master_id = self.node_id(master)
        return next(self.node(r.address) for r in self._view() if r.master == master_id and r.live)

    def slots_of(self, node: Node) -> frozenset[int]:
        return next((row.slots for row in self._view() if row.address == node.name), frozenset())

    def owner(self, slot: int) -> Node:
        for row in self._view():
            if slot in row.slots and row.live:
                return self.node(row.address)
        raise RuntimeError(f"no live master owns slot {slot}")

    def healthy(self) -> bool:
        """Every node up and agreeing: state ok, 3 masters owning all slots, 3 linked replicas."""
        try:
            for node in self.nodes:
                info = self._ask(node, "CLUSTER", "INFO")
                if b"cluster_state:ok" not in (info if isinstance(info, bytes) else str(info).encode()):
                    return False
                with node.client() as client:
                    replication = client.info("replication")
                if replication["role"] == "slave" and replication.get("master_link_status") != "up":
                    return False
            rows = self._view()
        except redis.RedisError:
            return False
        masters = [r for r in rows if r.serving_master]
        replicas = [r for r in rows if "slave" in r.flags and r.live]
        covered = sum(len(r.slots) for r in masters) == 16384
        whole = all(r.live for r in rows) and covered and len(masters) == 3 and len(replicas) == 3
        return whole and self.agreed()

    def wait_healthy(self, timeout: float = 60.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.2)
        raise AssertionError(f"the test cluster is not whole again after {timeout} s: {self._view()}")

    def kill(self, node: Node) -> None:
        pid = int((node.dir / "redis.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def wait_promoted(self, slot: int, dead: Node, timeout: float = 30.0) -> Node:
        """Wait until a live master other than ``dead`` owns ``slot`` (its replica, promoted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                owner = self.owner(slot)
            except RuntimeError:  # the old master is flagged failing, the vote is not over
                owner = dead
            if owner != dead:
                return owner
            time.sleep(0.1)
        raise AssertionError(f"slot {slot} has no new master {timeout} s after {dead.name} died")

    def restart(self, node: Node) -> None:
        (node.dir / "redis.pid").unlink(missing_ok=True)
        subprocess.run(["redis-server", str(node.dir / "redis.conf")], check=True, timeout=10)

    def move_slot(self, slot: int, target: Node, *, halfway: bool = False) -> list[bytes]:
        """Move ``slot`` and its keys to ``target`` (a master); with ``halfway`` stop after every other
        key (the keys of one prefix end up on both nodes), both still migrating/importing: finish with
        ``finish_move(slot, source, target, rest)``. Returns the keys not moved yet.
        Done, it waits until every node agrees on the new owner."""
        source = self.owner(slot)
        source_id, target_id = self.node_id(source), self.node_id(target)
        self._ask(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        self._ask(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        answer = self._ask(source, "CLUSTER", "GETKEYSINSLOT", slot, 100_000)
        keys = list(answer) if isinstance(answer, list) else []
        moved, rest = (keys[::2], keys[1::2]) if halfway else (keys, [])
        if moved:
            self._ask(source, "MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *moved)
        if not halfway:
            self.finish_move(slot, source, target, rest)
        return rest

    def finish_move(self, slot: int, source: Node, target: Node, rest: list[bytes]) -> None:
        if rest:
            self._ask(source, "MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *rest)
        target_id = self.node_id(target)
        for node in (target, source, *self.masters()):
            self._ask(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        self.wait_agreed()
