"""The fleet: which environment serves a request, when new ones start, when old ones go.

Warm choice: an idle environment is reused (most recently used first by default: the uneven
spread the blog saw), else a new one starts on a host picked by placement (a real cold start).
Scaling: new environments spend a start allowance that refills per interval (or, in batch mode,
arrive in growing batches that start together); above the concurrency limit or with no allowance
left the request is throttled. Lifetimes: idle reclaim, a maximum age, and host retirement that
takes the host's environments with it.
"""

import asyncio
import random
import time
from collections import deque

from probe.local.environment import Environment, Outcome
from probe.local.hosts import Host, materialize, place, this_machine
from probe.local.profile import Profile

TICK_S = 0.1
HISTORY = 10_000  # retired environments kept for introspection


class Throttled(Exception):
    """No environment may serve this request now. `reason` is Lambda's throttle reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Fleet:
    def __init__(self, profile: Profile, make_env, base_tmp: str):
        self.profile = profile
        self._make_env = make_env  # callable(host) -> Environment
        self._base_tmp = base_tmp
        self.hosts: list[Host] = []
        self.live: dict[str, Environment] = {}  # id -> env, every environment not yet stopped
        self.history: deque[Environment] = deque(maxlen=HISTORY)
        self._idle: dict[str, Environment] = {}  # insertion order = release order (MRU last)
        self._unclaimed: dict[str, Environment] = {}  # batch-started, no request yet
        self._busy = 0
        self._tokens = profile.burst
        self._step = 0
        self._scale_started: float | None = None
        self._next_tick = 0.0
        self._throttled_since_tick = 0
        self._stopping: set[asyncio.Task] = set()
        self._ticker: asyncio.Task | None = None
        self.cold_starts = 0
        self.throttles: dict[str, int] = {}

    # -- start / stop -------------------------------------------------------------------------
    async def start(self) -> None:
        if self.profile.hosts:
            self.hosts = [materialize(spec, self._base_tmp) for spec in self.profile.hosts]
        else:
            self.hosts = [this_machine()]
        self._ticker = asyncio.create_task(self._tick_loop(), name="fleet-ticker")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        for env in list(self.live.values()):
            self._retire(env, "shutdown")
        if self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)

    def kill_all_now(self) -> None:
        for env in self.environments:
            env.kill_now()

    @property
    def environments(self) -> list[Environment]:
        """Every environment, retired ones first, in creation order within each group."""
        return [*self.history, *self.live.values()]

    # -- serving ------------------------------------------------------------------------------
    async def invoke(self, event: bytes, request_id: str) -> Outcome:
        env = self.acquire()
        try:
            return await env.invoke(event, request_id)
        finally:
            self.release(env)

    def acquire(self) -> Environment:
        """Pick or start the environment for one request (synchronous: decisions are atomic)."""
        env = self._pick_warm()
        if env is None and self._unclaimed:
            _, env = self._unclaimed.popitem()
        if env is not None:
            env.state = "busy"  # a batch env still starting stays bound to this request
            self._busy += 1
            return env
        prof = self.profile
        if self._busy >= prof.concurrency_limit:
            raise self._throttle("ReservedFunctionConcurrentInvocationLimitExceeded")
        if self._scale_started is None:
            self._scale_started = time.monotonic()
            self._next_tick = self._scale_started + prof.interval_s
        if self._tokens < 1:
            self._throttled_since_tick += 1
            raise self._throttle("FunctionInvocationRateLimitExceeded")
        env = self._new_env()
        if env is None:
            raise self._throttle("ConcurrentInvocationLimitExceeded")
        self._tokens -= 1
        self._busy += 1
        env.state = "busy"
        env.start()
        return env

    def release(self, env: Environment) -> None:
        """Return an environment after its invocation; before the response is sent, so the
        client's next request can find it idle (closed-loop clients keep exactly c envs)."""
        self._busy -= 1
        env.last_used = time.monotonic()
        if env.dead or env.host.retired or self._too_old(env, env.last_used):
            self._retire(env, env.retire_reason or ("host retired" if env.host.retired
                                                    else "max lifetime"))
            return
        env.state = "idle"
        self._idle[env.id] = env

    def _pick_warm(self) -> Environment | None:
        if not self._idle:
            return None
        choice = self.profile.warm_choice
        if choice == "mru":
            _, env = self._idle.popitem()
        elif choice == "lru":
            env = self._idle.pop(next(iter(self._idle)))
        else:
            env = self._idle.pop(random.choice(list(self._idle)))
        return env

    def _throttle(self, reason: str) -> Throttled:
        self.throttles[reason] = self.throttles.get(reason, 0) + 1
        return Throttled(reason)

    def _new_env(self) -> Environment | None:
        host = place(self.hosts, self.profile.strategy)
        if host is None:
            return None
        env = self._make_env(host)
        host.envs.add(env.id)
        if host.first_used_at is None:
            host.first_used_at = time.monotonic()
        self.live[env.id] = env
        self.cold_starts += 1
        return env

    # -- retiring -----------------------------------------------------------------------------
    def _retire(self, env: Environment, reason: str) -> None:
        if env.id not in self.live:
            return
        del self.live[env.id]
        self._idle.pop(env.id, None)
        self._unclaimed.pop(env.id, None)
        env.host.envs.discard(env.id)
        self.history.append(env)
        task = asyncio.create_task(env.stop(reason))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        if not self.live and self.profile.batch:
            # A fleet that has emptied gets its initial burst again (batches keep growing).
            self._tokens = self.profile.burst

    def _too_old(self, env: Environment, now: float) -> bool:
        limit = self.profile.env_max_lifetime_s
        return limit is not None and now - env.created_at >= limit

    # -- the clock ----------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.tick(time.monotonic())

    def tick(self, now: float) -> None:
        """Advance scaling, reclaim idle/old environments and retire hosts (one step)."""
        prof = self.profile
        if self._scale_started is not None and now >= self._next_tick:
            self._next_tick = now + prof.interval_s
            step = prof.steps[min(self._step, len(prof.steps) - 1)]
            if prof.batch:
                if self._throttled_since_tick:
                    self._step += 1
                    self._start_batch(step)
            else:
                self._step += 1
                self._tokens = min(prof.max_tokens, self._tokens + step)
            self._throttled_since_tick = 0
        for host in list(self.hosts):
            if host.due_to_retire(now):
                self._retire_host(host)
        for env in list(self._idle.values()):
            idle_for = now - env.last_used
            if prof.idle_reclaim_s is not None and idle_for >= prof.idle_reclaim_s:
                self._retire(env, "idle reclaim")
            elif self._too_old(env, now):
                self._retire(env, "max lifetime")
        for env in list(self.live.values()):
            if env.dead and env.state != "busy":
                self._retire(env, env.retire_reason or "exited")

    def _start_batch(self, count: int) -> None:
        room = self.profile.concurrency_limit - self._busy - len(self._idle) - len(self._unclaimed)
        for _ in range(max(0, min(count, room))):
            env = self._new_env()
            if env is None:
                break
            self._unclaimed[env.id] = env
            env.start()

    def _retire_host(self, host: Host) -> None:
        host.retired = True
        for env in list(self.live.values()):
            if env.host is host and env.state != "busy":
                self._retire(env, "host retired")
        # Busy ones finish their invocation, then release() retires them.
        if host.spec.replace:
            self.hosts.append(materialize(host.spec, self._base_tmp, host.generation + 1))
