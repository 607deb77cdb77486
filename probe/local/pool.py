"""The pool of environments: which one serves a request, when new ones start, when old ones go.

Warm choice: an idle environment is reused (most recently used first by default: the uneven
spread the blog saw), else a new one starts on a host picked by placement (a real cold start).
Scaling: new environments spend a start allowance that refills per interval (or, in batch mode,
arrive in growing batches that start together); above the concurrency limit or with no allowance
left the request is throttled. Lifetimes: idle reclaim, a maximum age, and host retirement that
takes the host's environments with it.

Two models beside Lambda's scaling:
- this machine's limits (capacity.py): at most machine_cap environment processes, from the
  memory, open files and ports a held environment takes (a request that would need one more
  waits up to queue_wait_s for a busy environment), and inits at most init_slots at a time. A
  new environment is started when Lambda would start it (its INIT_START says so), and queues
  for an init slot here; only when that queue would outlast START_QUEUE_MAX_S (this machine's
  CPUs cannot start it before a client gives up) does the request wait for room like the others. A
  request that waits in vain gets a 429 with reason LocalMachineCapacityExceeded;
- in mode "lmi", Managed Instances: each environment serves up to max_concurrency requests at
  once, min_environments start at publish, and the fleet scales out one environment at a time,
  asynchronously, when they saturate (a request finding every slot taken is throttled, never
  cold-started).
"""

import asyncio
import os
import random
import resource
import time
from collections import deque

from probe.local.capacity import INIT_S, LOCAL_REASON, START_QUEUE_MAX_S, budget, cpu_pressure, init_slots, raise_nofile
from probe.local.environment import Environment
from probe.local.function import InvocationResult
from probe.local.hosts import Host, materialize, place, this_machine
from probe.local.profile import Profile

TICK_S = 0.1
QUEUE_PER_PROCESS = 4  # requests that may wait for the local machine, per process it holds
PUBLISH_TIMEOUT_S = 30.0  # how long start() waits for an LMI version's first environments
INIT_EWMA = 0.1  # weight of the latest init in the running estimate of how long one takes here
HISTORY = 10_000  # retired environments kept for introspection


class Throttled(Exception):
    """No environment may serve this request now. `reason` is Lambda's throttle reason."""

    def __init__(self, reason: str, wait_s: float | None = None, cold: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s  # local only: how long the request may wait for room
        self.cold = cold  # local only: it waits for a start slot, and is owed a new environment

    @property
    def local(self) -> bool:
        """True when this machine, not a Lambda limit, said no."""
        return self.reason == LOCAL_REASON


class Pool:
    def __init__(self, profile: Profile, make_env, base_tmp: str, on_host_event=None):
        self.profile = profile
        self.lmi = profile.mode == "lmi"
        # callable(host, event) for "launch" and "terminate" of an LMI instance
        self._on_host_event = on_host_event or (lambda host, event: None)
        self.nofile_raised = raise_nofile(profile.runtime)  # (old, new) soft limit, or None
        self.budget = budget(profile.runtime)
        self.max_processes = profile.max_processes or self.budget.cap
        self.init_slots = profile.init_slots or init_slots()  # inits at once; more queue here
        self.init_s = INIT_S.get(profile.runtime, INIT_S["awslambdaric"])  # running estimate
        self.queued_starts = 0  # environments whose init queued on this machine
        self.local_queue_ms_max = 0.0
        self.local_queue_ms_sum = 0.0
        self.local_limited = 0  # requests the local machine turned away (429)
        self.local_waited = 0  # requests that waited for the local machine, then ran
        self._waiters: deque[asyncio.Future] = deque()
        self._scaling_out: Environment | None = None
        self._make_env = make_env  # callable(host) -> Environment
        self.log_status = None  # callable() -> dict: the log shipper's backlog, for status()
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
        if self.lmi:
            # Publishing a Managed Instances version starts its minimum fleet before any request.
            # The version is Active once they are ready, so the first request finds them.
            envs, starting = [], []
            for _ in range(min(self.profile.min_environments, self._room())):
                env = self._new_env(cold=False)
                if env is None:
                    break
                envs.append(env)
                starting.append(self._start(env))
            if starting:
                await asyncio.wait(starting, timeout=PUBLISH_TIMEOUT_S)
                if all(t.done() and not t.result() for t in starting):
                    # Lambda marks such a version Failed; here it is said once, not answered
                    # with a 429 for every request.
                    reason = next((e.retire_reason for e in envs if e.retire_reason), "their inits failed")
                    raise RuntimeError(f"the local Lambda's environments could not start: {reason}")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        for env in list(self.live.values()):
            self._retire(env, "shutdown")
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        if self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)
        for host in self.hosts:
            if host.launched:
                self._on_host_event(host, "terminate")
                host.launched = False

    def kill_all_now(self) -> None:
        for env in self.environments:
            env.kill_now()

    def status(self) -> dict:
        """The local machine's side, for GET /_lambdascope/status: whose limit is binding."""
        return {
            "environments": len(self.live),
            "environment_processes": len(self.live) * self.profile.processes_per_env,
            "max_environment_processes": self.max_processes,
            "cpus": os.cpu_count(),
            "local_limited": self.local_limited,
            "local_waited": self.local_waited,
            "waiting": len(self._waiters),
            "starting": self._starting_now(),
            "max_starting": self.init_slots,
            # This machine's start queue (never Lambda's scaling: INIT_START is Lambda's time)
            "queued_starts": self.queued_starts,
            "local_queue_ms_max": round(self.local_queue_ms_max, 1),
            "local_queue_ms_mean": round(self.local_queue_ms_sum / max(1, self.queued_starts), 1),
            "init_s_estimate": round(self.init_s, 4),
            "budget": dict(self.budget.by, binding=self.budget.binding),
            "nofile_soft": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "cpu_pressure_pct": cpu_pressure(),
            "at_local_limit": self._room() < 1,
            "throttles": dict(self.throttles),
            "cold_starts": self.cold_starts,
            # How far the log store is behind this machine's environments (logship.py)
            "logs": self.log_status() if self.log_status else None,
        }

    @property
    def environments(self) -> list[Environment]:
        """Every environment, retired ones first, in creation order within each group."""
        return [*self.history, *self.live.values()]

    # -- serving ------------------------------------------------------------------------------
    async def invoke(
        self, event: bytes, request_id: str, hold_s: float = 0.0, asked_at: float | None = None
    ) -> InvocationResult:
        """Serve one request. `hold_s`: the client's network round trip, spent holding the
        environment (so a closed-loop client keeps one environment, as ab's clients did).
        `asked_at`: when the client sent it (epoch s), the time a cold start's INIT_START
        carries (Environment.start)."""
        env = await self._acquire_or_wait(asked_at)
        settled = None
        try:
            if hold_s:
                await asyncio.sleep(hold_s)
            result = await env.invoke(event, request_id)
            settled = result.settled
            return result
        finally:
            if settled is None:
                self.release(env)
            else:
                # The answer goes now; the environment stays busy until its extensions are done.
                settled.add_done_callback(lambda _: self.release(env))

    async def _acquire_or_wait(self, asked_at: float | None = None) -> Environment:
        try:
            return self.acquire(asked_at=asked_at)
        except Throttled as exc:
            if not exc.local:
                raise
            if len(self._waiters) >= QUEUE_PER_PROCESS * self.max_processes:
                self.local_limited += 1
                raise self._throttle(LOCAL_REASON) from None
            wait_s, cold = exc.wait_s, exc.cold
        # The machine is full: wait a moment for an environment to free up, as a queue would.
        # A request that found no idle environment and waits only for a start slot is owed a
        # new one, as Lambda would start for it: it never takes an environment another
        # client's next request is about to reuse (ten clients still get ten environments).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except TimeoutError:
                self.local_limited += 1
                raise self._throttle(LOCAL_REASON) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            try:
                env = self.acquire(new=cold, asked_at=asked_at)
            except Throttled as exc:
                if exc.local and loop.time() < deadline:
                    cold = exc.cold
                    continue
                if exc.local:
                    self.local_limited += 1
                raise
            self.local_waited += 1
            return env

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _room(self) -> int:
        """Environments this machine can still start."""
        ppe = self.profile.processes_per_env
        return max(0, (self.max_processes - len(self.live) * ppe) // ppe)

    def acquire(self, new: bool = False, asked_at: float | None = None) -> Environment:
        """Pick or start the environment for one request (synchronous: decisions are atomic).
        `new`: start one (a request that already found none idle and waited for a start slot).
        `asked_at`: when the client sent the request (epoch s), for a new one's INIT_START."""
        if self.lmi:
            return self._acquire_slot()
        env = None if new else self._pick_warm()
        if env is None and self._unclaimed:
            _, env = self._unclaimed.popitem()
        if env is not None:
            env.begin_request()  # busy: a batch env still starting stays bound to this request
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
        if self._room() < 1:
            # counted once the request gives up waiting
            raise Throttled(LOCAL_REASON, self.profile.queue_wait_s)
        if self._init_queue_s() > START_QUEUE_MAX_S:
            # This machine's CPUs cannot start one more before the client would give up: wait
            # for a start to finish, as a request waits for room, rather than queue it longer.
            raise Throttled(LOCAL_REASON, self.profile.queue_wait_s, cold=True)
        env = self._new_env()
        if env is None:
            raise self._throttle("ConcurrentInvocationLimitExceeded")
        self._tokens -= 1
        self._busy += 1
        env.begin_request()
        self._start(env, asked_at)
        return env

    def _start(self, env: Environment, asked_at: float | None = None):
        """Begin an environment's INIT; when it is over, a waiting request may try again."""
        task = env.start(asked_at)
        task.add_done_callback(lambda _t: self._started(env))
        return task

    def _started(self, env: Environment) -> None:
        queued = env.local_queue_ms
        if queued is not None and queued >= 1.0:
            self.queued_starts += 1
            self.local_queue_ms_sum += queued
            self.local_queue_ms_max = max(self.local_queue_ms_max, queued)
        if env.init_run_s is not None and env.ready:
            self.init_s += INIT_EWMA * (env.init_run_s - self.init_s)
        self._wake_one()

    def _init_queue_s(self) -> float:
        """How long one more init would queue here: the inits ahead of it, init_slots at a time,
        each taking about what the latest ones took."""
        ahead = self._starting_now() + 1 - self.init_slots
        if ahead <= 0:
            return 0.0
        return -(-ahead // self.init_slots) * self.init_s

    def _starting_now(self) -> int:
        return sum(1 for e in self.live.values() if not e.ready and not e.dead)

    def _acquire_slot(self) -> Environment:
        """Managed Instances: a free request slot on a ready environment, least loaded first."""
        prof = self.profile
        if self._busy >= prof.concurrency_limit:
            raise self._throttle("ReservedFunctionConcurrentInvocationLimitExceeded")
        ready = [
            e
            for e in self.live.values()
            if e.ready and not e.dead and not e.host.retired and e.inflight < prof.max_concurrency
        ]
        if not ready:
            self._scale_out()
            raise self._throttle("ConcurrentInvocationLimitExceeded")
        env = min(ready, key=lambda e: e.inflight)
        env.begin_request()
        self._busy += 1
        if len(ready) == 1 and env.inflight >= prof.max_concurrency:
            self._scale_out()  # that was the last free slot: saturated
        return env

    def _scale_out(self) -> None:
        """Start one more LMI environment in the background unless one is already starting."""
        starting = self._scaling_out
        if starting is not None and not starting.ready and not starting.dead:
            return
        if len(self.live) >= self.profile.max_environments or self._room() < 1:
            return
        self._scaling_out = self._new_env(cold=False)
        if self._scaling_out is not None:
            self._start(self._scaling_out)

    def release(self, env: Environment) -> None:
        """Return an environment after its invocation; before the response is sent, so the
        client's next request can find it idle (closed-loop clients keep exactly c envs)."""
        self._busy -= 1
        env.last_used = time.monotonic()
        env.host.served += 1
        self._wake_one()
        if env.host.due_to_retire(env.last_used):
            self._retire_host(env.host)
        if self.lmi:
            env.end_request()
            if env.dead or env.host.retired:
                if env.inflight == 0:
                    self._retire(env, env.retire_reason or "host retired")
            return
        env.end_request()
        if env.dead or env.host.retired or self._too_old(env, env.last_used):
            self._retire(env, env.retire_reason or ("host retired" if env.host.retired else "max lifetime"))
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

    def _new_env(self, cold: bool = True) -> Environment | None:
        host = place(self.hosts, self.profile.strategy)
        if host is None:
            return None
        env = self._make_env(host)
        host.envs.add(env.id)
        if host.first_used_at is None:
            host.first_used_at = time.monotonic()
        if host.instance_id and not host.launched:
            host.launched = True
            self._on_host_event(host, "launch")
        self.live[env.id] = env
        if cold:
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
        self._wake_one()  # its processes are gone: room for a new environment
        if not self.live and self.profile.batch and reason != "host retired":
            # A fleet that has emptied (idle reclaim) gets its initial burst again. One emptied
            # by a host's retirement does not: its load waits for the next, larger batch, as the
            # blog's did (4, 10, then 20 at once on the third host).
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
        if self.lmi:
            self._lmi_scale_in(now)
        for env in list(self.live.values()):
            if env.dead and env.state != "busy":
                self._retire(env, env.retire_reason or "exited")

    def _lmi_scale_in(self, now: float) -> None:
        """Idle LMI environments beyond the minimum are stopped (scale-in); below the minimum
        (an instance terminated) one more is started."""
        limit = self.profile.idle_reclaim_s
        serving = [e for e in self.live.values() if not e.host.retired and not e.dead]
        if len(serving) < self.profile.min_environments:
            self._scale_out()
        for env in list(self.live.values()):
            if len(self.live) <= self.profile.min_environments:
                return
            if limit is not None and env.ready and env.inflight == 0 and now - env.last_used >= limit:
                self._retire(env, "scale-in")

    def _start_batch(self, count: int) -> None:
        room = self.profile.concurrency_limit - self._busy - len(self._idle) - len(self._unclaimed)
        room = min(room, self._room())
        for _ in range(max(0, min(count, room))):
            env = self._new_env()
            if env is None:
                break
            self._unclaimed[env.id] = env
            self._start(env)

    def _retire_host(self, host: Host) -> None:
        host.retired = True
        for env in list(self.live.values()):
            if env.host is host and env.state != "busy" and env.inflight == 0:
                self._retire(env, "host retired")
        if host.launched:
            self._on_host_event(host, "terminate")
            host.launched = False
        # Busy ones finish their invocation, then release() retires them.
        if host.spec.replace:
            self.hosts.append(materialize(host.spec, self._base_tmp, host.generation + 1))
