"""One worker's rollout: watch the pin and the artifact root, load beside, check, swap, release.

TF Serving's version manager in small. ``start`` (before the server listens) loads the first valid
version; then a background task wakes on a pin change (or every ``poll_seconds``), asks the policy
(``policy.next_version``) what to serve, and when that is a new version:

1. memory: refuse it if the process cannot hold it beside the serving one (``memory``);
2. gate, files: manifest, checksums, NaN/inf, signatures (``gate.check_files``, in a thread), and the
   build's offline metrics against the serving version's (skipped for a rollback's pin);
3. load it beside the serving version, in a thread (``version.load_version``), one worker of the
   provider at a time (a file lock in the workers' state directory);

   the threads of steps 2 and 3 give way to the event loop whenever it has work (``background``),
   so calls keep their latency while a version loads beside them;
4. warm it up with real calls, then the smoke set: users answered by its full pipeline (``gate.smoke``);
5. the ``after_load`` hooks, then ``last_hook`` (the app's: realtime re-applies the items that arrived
   after the build and follows the new version from then on), only for a version that passed the rest;
6. swap: one assignment in the app (``install``), with no await between the last hook and it; the old
   version is retired and released when its last call ends.

A step that fails refuses the version (``VersionRefused``): the reason goes to the log, the state
(/metrics, console, Nacos metadata) and the serving version stays. Nothing of this runs inside a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from dubbo_recsys.interfaces.artifacts import list_versions, version_dir
from dubbo_recsys.provider.rollout import gate, memory
from dubbo_recsys.provider.rollout.config import RolloutConfig
from dubbo_recsys.provider.rollout.errors import RolloutError, VersionRefused
from dubbo_recsys.provider.rollout.pin import Pin
from dubbo_recsys.provider.rollout.pins import PinSource, open_pins
from dubbo_recsys.provider.rollout.policy import next_version, start_candidates
from dubbo_recsys.provider.rollout.state import RolloutState, StateBoard
from dubbo_recsys.provider.rollout.version import ServingVersion, SharedParts, load_version

__all__ = ["AfterLoad", "RolloutController"]

log = logging.getLogger(__name__)

#: called with a freshly loaded version before it serves; may be a coroutine function
AfterLoad = Callable[[ServingVersion], Awaitable[None] | None]
_UNKNOWN_USER = "rollout-smoke-unknown-user"
T = TypeVar("T")


class Heartbeat:
    """The event loop's pulse while a background load runs: ``last`` is when the loop last got to run.

    A callback every millisecond stamps it; a stale stamp means the loop has work and is waiting
    (for the GIL, most of the time), which ``background`` reads as "yield now"."""

    def __init__(self, period: float = 0.001) -> None:
        self.last = time.perf_counter()
        self._period = period
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._beat()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _beat(self) -> None:
        self.last = time.perf_counter()
        self._handle = asyncio.get_running_loop().call_later(self._period, self._beat)


def background(
    function: Callable[..., T],
    heartbeat: Heartbeat,
    busy: Callable[[], bool] = lambda: True,
    run: float = 0.001,
    stale: float = 0.002,
    rest: float = 0.001,
) -> Callable[..., T]:
    """``function`` run in a worker thread that gives way to the event loop whenever calls wait on it.

    Why: a loading thread takes the GIL as often as the loop does, so calls would run at half
    speed, and later, for as long as it loads (measured on ML-100K at 150 calls/s on one worker,
    p99 of the calls during the load 135-350 ms against 20-30 ms before it). A profile hook (called
    on each Python call and return in this thread only) sleeps ``rest`` whenever calls are in
    flight (``busy``) and the loop's heartbeat is older than ``stale``, after the thread ran at
    least ``run``: sleeping releases the GIL and the core to the loop. Without calls the load runs
    at full speed (the heartbeat alone would be late too, waiting for the GIL to beat).
    Measured the same way: p99 during the load 34-67 ms, the load 2.2-2.6 s instead of 1.4-1.6 s."""

    def yielding(*args: Any) -> T:
        ran_since = [time.perf_counter()]

        def hook(_frame: Any, _event: str, _arg: Any) -> None:
            now = time.perf_counter()
            if now - ran_since[0] > run and now - heartbeat.last > stale and busy():
                time.sleep(rest)
                ran_since[0] = time.perf_counter()

        sys.setprofile(hook)
        try:
            return function(*args)
        finally:
            sys.setprofile(None)

    return yielding


class RolloutController:
    def __init__(
        self,
        config: RolloutConfig,
        shared: SharedParts,
        install: Callable[[ServingVersion], None],
        after_load: list[AfterLoad] | None = None,
        last_hook: AfterLoad | None = None,
    ) -> None:
        self.config = config
        self.shared = shared
        self.install = install  # the app's swap: one assignment of the reference calls read
        self.after_load: list[AfterLoad] = after_load if after_load is not None else []
        self.last_hook = last_hook  # after every after_load hook, right before the swap (realtime's adopt)
        self.state = RolloutState(worker=config.worker)
        self.board = StateBoard(self.state, config.state_dir)
        self.serving: ServingVersion | None = None
        self._pins: PinSource | None = None
        self._pin: Pin | None = None
        self._refused: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._load_growth = 0  # bytes of RSS the last load added
        self._missing_logged = ""

    # -- life -----------------------------------------------------------------------------------

    async def start(self) -> ServingVersion:
        """Load the first valid version (pinned, else newest first) and start watching. Before listening."""
        config = self.config
        self._pins = await open_pins(config.pin_source, config.root, config.pin_data_id, config.pin_group)
        self._pins.on_change = self._wake.set
        self._note_pin(self._pins.current())
        available = list_versions(config.root)
        refusals = []
        for candidate in start_candidates(available, self._pin):
            try:
                self._swap(await self._prepare(candidate, first=True))
                break
            except VersionRefused as exc:
                refusals.append(f"{candidate}: {exc.check}: {exc.reason}")
        else:
            found = "; ".join(refusals) or f"no version under {config.root / 'versions'}"
            raise RolloutError(f"nothing to serve from --artifact-root {config.root}: {found}")
        if self._pin is not None and self.serving is not None and self.serving.id != self._pin.version:
            log.error("the pinned version %s could not serve; serving %s meanwhile", self._pin.version, self.serving.id)
        self._task = asyncio.create_task(self._watch(), name="artifact-rollout")
        assert self.serving is not None  # set by the swap above (the loop's else raised otherwise)
        return self.serving

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._pins is not None:
            await self._pins.close()
            self._pins = None

    def poke(self) -> None:
        """Look now instead of at the next poll (tests, and a pin change)."""
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            self._wake.clear()
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("artifact rollout step failed; trying again at the next poll")

    async def step(self) -> None:
        """One look: the pin, the root, and a rollout when the policy says so."""
        assert self._pins is not None and self.serving is not None
        await self._pins.refresh()
        self._note_pin(self._pins.current())
        available = await asyncio.to_thread(list_versions, self.config.root)
        if self._pin is not None and self._pin.version not in available and self._missing_logged != self._pin.version:
            self._missing_logged = self._pin.version
            log.error(
                "pinned version %s is not under %s; %s keeps serving",
                self._pin.version,
                self.config.root,
                self.serving.id,
            )
        target = next_version(available, self._pin, self.serving.id, self._refused)
        if target is None:
            return
        try:
            version = await self._prepare(target)
        except VersionRefused:
            return
        self._swap(version)

    def _note_pin(self, pin: Pin | None) -> None:
        if pin == self._pin:
            return
        self._pin = pin
        self._refused.clear()  # a new pin (even of a refused version) means: try again
        self.state.pin = pin.version if pin is not None else ""
        log.info("pin: %s", pin.version if pin is not None else "none (serving the newest version)")
        self.board.publish()

    # -- one version ----------------------------------------------------------------------------

    async def _prepare(self, version_id: str, *, first: bool = False) -> ServingVersion:
        """Steps 1-5 of the module doc; ``VersionRefused`` (recorded) at the first failure."""
        state, root = self.state, version_dir(self.config.root, version_id)
        state.loading, state.loading_since = version_id, time.time()
        self.board.publish()
        loaded: ServingVersion | None = None
        heartbeat = Heartbeat()

        def quiet(function: Callable[..., T]) -> Callable[..., T]:
            return function if first else background(function, heartbeat, self._busy)  # at start nothing serves

        try:
            async with self._load_slot(first):
                if not first:
                    heartbeat.start()
                need = max(
                    self._load_growth, int(memory.FILE_FACTOR * await asyncio.to_thread(memory.version_bytes, root))
                )
                problem = memory.refusal(need, await asyncio.to_thread(memory.readings), self.config.memory_limit)
                if problem:
                    raise VersionRefused("memory", problem)
                serving = self.serving
                began = time.perf_counter()
                manifest = await asyncio.to_thread(
                    quiet(gate.check_files), root, version_id, serving.root if serving else None
                )
                gate_seconds = time.perf_counter() - began
                if self._pin is None or self._pin.version != version_id or not self._pin.skip_metric_gate:
                    gate.check_metrics(
                        manifest.get("metrics", {}),
                        serving.manifest.get("metrics") if serving else None,
                        self.config.gate,
                    )
                before = memory.process_rss()
                try:
                    loaded = await asyncio.to_thread(quiet(load_version), root, version_id, self.shared, manifest)
                except Exception as exc:
                    raise VersionRefused("load", f"{type(exc).__name__}: {exc}") from None
                self._load_growth = loaded.load_rss_bytes = max(0, memory.process_rss() - before)
                loaded.gate_seconds = gate_seconds
                await self._warm_and_smoke(loaded, serving)
                for hook in [*self.after_load, *([self.last_hook] if self.last_hook is not None else [])]:
                    try:
                        result = hook(loaded)
                        if inspect.isawaitable(result):
                            await result
                    except Exception as exc:
                        raise VersionRefused(
                            "after-load", f"{getattr(hook, '__name__', hook)}: {type(exc).__name__}: {exc}"
                        ) from None
            return loaded
        except VersionRefused as exc:
            self._refuse(version_id, exc)
            if loaded is not None:
                loaded.retire()
            raise
        finally:
            heartbeat.stop()
            state.loading, state.loading_since = "", 0.0
            self.board.publish()

    def _busy(self) -> bool:
        """Calls in flight on the serving version (read from the loading thread: one int)."""
        serving = self.serving
        return serving is not None and serving.calls > 0

    async def _warm_and_smoke(self, loaded: ServingVersion, serving: ServingVersion | None) -> None:
        began = time.perf_counter()
        users = await asyncio.to_thread(_smoke_users, loaded.root, self.config.gate.smoke_users)
        problems = await loaded.scenes.warm_up(users[:2])
        if problems:
            raise VersionRefused("warm-up", problems[0])
        await gate.smoke(loaded, users)
        if serving is not None:
            gate.same_stages(loaded, serving)
        loaded.warmup_seconds = time.perf_counter() - began

    def _refuse(self, version_id: str, exc: VersionRefused) -> None:
        self._refused.add(version_id)
        self.state.refused(version_id, exc.check, exc.reason)
        self.board.publish()
        serving = self.serving.id if self.serving is not None else "nothing yet"
        log.error("artifact version %s refused (%s): %s; serving %s", version_id, exc.check, exc.reason, serving)

    @contextlib.asynccontextmanager
    async def _load_slot(self, first: bool) -> AsyncIterator[None]:
        """One worker of the provider loads at a time (their loads compete for the same cores and
        memory while the others serve); the first load at start takes no turn."""
        directory = self.config.state_dir
        if first or not directory:
            yield
            return
        import fcntl

        handle = os.open(Path(directory) / "load.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    # -- the swap -------------------------------------------------------------------------------

    def _swap(self, version: ServingVersion) -> None:
        old, self.serving = self.serving, version
        self.install(version)  # from here on every new call gets the new version
        state = self.state
        state.serving, state.serving_since = version.id, time.time()
        state.load_seconds, state.warmup_seconds = round(version.load_seconds, 3), round(version.warmup_seconds, 3)
        state.gate_seconds = round(version.gate_seconds, 3)
        state.load_rss_bytes = version.load_rss_bytes
        log.info(
            "artifact version %s serves (was %s): gate %.2f s, load %.2f s, warm-up and smoke %.2f s",
            version.id,
            old.id if old is not None else "nothing",
            version.gate_seconds,
            version.load_seconds,
            version.warmup_seconds,
        )
        if old is not None:
            state.swaps += 1
            state.retiring.append(old.id)
            old.on_release.append(self._released)
            old.retire()
        self.board.publish()

    def _released(self, old: ServingVersion) -> None:
        if old.id in self.state.retiring:
            self.state.retiring.remove(old.id)
        self.board.publish()
        # the old version's objects hold reference cycles (TensorFlow's); collect them now, once,
        # rather than whenever the collector next runs a full pass
        asyncio.get_running_loop().call_soon(gc.collect)


def _smoke_users(root: Path, count: int) -> list[str]:
    """``count`` users spread over the version's user list, and one it does not know."""
    users = (root / "ids/users.txt").read_text(encoding="utf-8").split()
    step = max(1, len(users) // max(1, count - 1))
    return [*users[::step][: count - 1], _UNKNOWN_USER]
