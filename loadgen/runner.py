"""Drive a target with a plan: closed loop (N workers) or open loop (arrivals on a schedule).

    runner = Runner(target, Plan("open", 200, duration=30))
    async with contextlib.aclosing(runner.run()) as batches:
        async for batch in batches:      # lists of Outcome, one every batch_interval
            ...                          # (possibly empty: a tick to refresh a screen)

Control while it runs, from the same event loop: `apply(plan)` (mode, level, paused) and `stop()`.
With a request count or a duration the run ends by itself; otherwise at stop().

IO only; the decisions (arrival times, held-back counting, worker tokens, the budget) live in
`schedule.py`. Times are perf_counter for intervals, converted to epoch seconds once per
outcome through a fixed offset taken at start.
"""

import asyncio
import time
from collections.abc import AsyncGenerator, Coroutine
from time import perf_counter
from typing import TYPE_CHECKING, Any

from loadgen.batcher import Batcher
from loadgen.clients import HttpClient, make_client
from loadgen.errors import classify_exception
from loadgen.outcome import Outcome, new_request_id
from loadgen.plan import Plan
from loadgen.schedule import Budget, ClosedLoop, OpenLoop
from loadgen.stats import Stats, StatsSnapshot

if TYPE_CHECKING:
    from loadgen.targets import Target

_DONE, _SWITCH, _STOP = "done", "switch", "stop"


class Runner:
    """One run of load. `client` is "aiohttp" (default) or "fast" (see fastclient.py).

    Outcomes are batched with bounds (`max_batch` per batch, `max_queued_batches` waiting):
    a consumer that lags slows the load rather than growing memory (see batcher.py).
    """

    def __init__(
        self,
        target: "Target",
        plan: Plan,
        batch_interval: float = 0.1,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        client: str = "aiohttp",
        max_batch: int = 1000,
        max_queued_batches: int = 50,
        stop_grace: float = 2.0,
        stats_window: float = 5.0,
    ) -> None:
        if batch_interval <= 0:
            raise ValueError(f"batch_interval must be more than 0 (got {batch_interval})")
        self.target = target
        self._plan = plan
        self._batch_interval = batch_interval
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._client_kind = client
        self._stop_grace = stop_grace
        self.stats = Stats(stats_window)
        self._batches = Batcher(self.stats, max_batch, max_queued_batches)
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0  # requests sent and not finished
        self._starting = 0  # open-loop requests spawned but not yet running: they count too
        self._unpaused = asyncio.Event()
        if not plan.paused:
            self._unpaused.set()
        self._stopping = False
        self._started = False
        self._failure: BaseException | None = None
        self._waker: asyncio.Future[None] | None = None
        self._wake_on_completion = False
        self._closed_loop: ClosedLoop | None = None
        self._open_loop: OpenLoop | None = None
        self._held_back_before = 0
        self._budget = Budget(plan.requests)
        self._epoch_offset = 0.0
        # Both set by run(), before anything uses them (a Runner runs once).
        self._client: HttpClient = None  # type: ignore[assignment]
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]

    # ---- state -------------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def sent(self) -> int:
        return self._budget.issued

    @property
    def paused(self) -> bool:
        return self._plan.paused

    @property
    def held_back(self) -> int:
        """Open-loop arrivals the in-flight cap made wait (or never let out)."""
        current = self._open_loop.held_back if self._open_loop is not None else 0
        return self._held_back_before + current

    def snapshot(self, now: float | None = None) -> StatsSnapshot:
        """Stats plus what only the runner knows (in flight, held back, the plan it runs)."""
        return self.stats.snapshot(
            now, in_flight=self._in_flight, held_back=self.held_back, sent=self.sent, plan=self._plan
        )

    # ---- control (call from the loop's thread) -----------------------------------------

    def apply(self, plan: Plan) -> None:
        """Run `plan`'s mode, level and paused from now on (its limits are the run's own, fixed
        at start: see `Plan.steered_by`). The plan is valid by construction: no clamp here."""
        before = self._plan
        self._plan = before.steered_by(plan)
        if self._plan.paused != before.paused:
            if self._plan.paused:
                self._unpaused.clear()  # send nothing new; requests in flight finish
            else:
                self._unpaused.set()
        self._apply_level()
        self._wake()

    def stop(self) -> None:
        """End the run: nothing new is sent, requests in flight get `stop_grace` seconds."""
        self._stopping = True
        self._unpaused.set()  # paused workers must see the stop
        self._wake()

    def _apply_level(self) -> None:
        tokens = self._closed_loop
        if tokens is not None:
            # Leaving closed loop: no worker may start another request, even before the
            # closed phase wakes up to see the switch.
            level = self._plan.level if self._plan.mode == "closed" else 0
            for worker_id in tokens.resize(level):
                self._spawn(self._worker(tokens, worker_id))
        if self._plan.mode == "open" and self._open_loop is not None:
            self._open_loop.set_rate(self._plan.level, perf_counter())

    # ---- the run -----------------------------------------------------------------------

    async def run(self) -> AsyncGenerator[list[Outcome], None]:
        """Async generator of outcome batches; ends when the plan is done or stop() is called.

        Raises what broke the run (e.g. CredentialsError when credentials cannot be refreshed).
        Request failures never do: they are outcomes with an error class.
        """
        if self._started:
            raise RuntimeError("a Runner runs once; make a new one")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._client = make_client(
            self._client_kind,
            limit=self._plan.max_in_flight,
            timeout=self._timeout + _hold_allowance_s(self._plan),
            connect_timeout=self._connect_timeout,
        )
        await self._client.start()
        drive = None
        try:
            start = perf_counter()
            self._epoch_offset = time.time() - start
            if self._plan.duration is not None:
                self._budget.deadline = start + self._plan.duration
            drive = self._loop.create_task(self._drive())
            while True:
                batch = await self._batches.get()
                if batch is None:
                    break
                yield batch
            await drive
            if self._failure is not None:
                raise self._failure
        finally:
            self._stopping = True
            if drive is not None and not drive.done():
                drive.cancel()
                await asyncio.gather(drive, return_exceptions=True)
            await self._cancel_tasks()
            await self._client.close()

    async def _drive(self) -> None:
        ticker = self._loop.create_task(self._batches.tick(self._batch_interval))
        try:
            reason = _SWITCH
            while reason == _SWITCH:
                if self._plan.mode == "closed":
                    reason = await self._closed_phase()
                else:
                    reason = await self._open_phase()
            await self._drain(self._stop_grace if reason == _STOP else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept and re-raised to the consumer by run()
            self._failure = exc
        finally:
            ticker.cancel()
        await self._cancel_tasks()
        await self._batches.close()

    async def _closed_phase(self) -> str:
        tokens = self._closed_loop = ClosedLoop()
        self._apply_level()
        try:
            while True:
                self._raise_failure()
                if self._stopping:
                    tokens.resize(0)
                    return _STOP
                if self._plan.mode != "closed":
                    tokens.resize(0)  # workers leave after their current request
                    return _SWITCH
                if not tokens.running:
                    return _DONE
                deadline = self._budget.deadline
                if self._plan.paused and deadline is not None:
                    if perf_counter() >= deadline:
                        self._unpaused.set()  # paused workers must see the budget is spent
                        await self._sleep()  # ...and wake us as they leave
                    else:
                        await self._sleep(deadline)
                else:
                    await self._sleep()
        finally:
            self._closed_loop = None

    async def _worker(self, tokens: ClosedLoop, worker_id: int) -> None:
        budget = self._budget
        try:
            while tokens.keep(worker_id) and not self._stopping:
                if self._plan.paused:
                    if budget.spent(perf_counter()):
                        break
                    await self._unpaused.wait()
                    continue
                now = perf_counter()
                seq = budget.take(now)
                if seq is None:
                    break
                await self._send(seq, now)
        finally:
            tokens.done(worker_id)
            if not tokens.running:
                self._wake()

    async def _open_phase(self) -> str:
        plan = self._plan
        arrivals = self._open_loop = OpenLoop(plan.level, perf_counter(), plan.max_in_flight, self._budget)
        try:
            while True:
                self._raise_failure()
                if self._stopping:
                    return _STOP
                if self._plan.mode != "open":
                    return _SWITCH
                now = perf_counter()
                if self._plan.paused != arrivals.paused:
                    arrivals.pause() if self._plan.paused else arrivals.resume(now)
                for seq, scheduled in arrivals.ready(now, self._in_flight + self._starting):
                    self._starting += 1
                    self._spawn(self._send(seq, scheduled, starting=True))
                if arrivals.finished() or self._budget.spent(now):
                    return _DONE
                if self._plan.paused:
                    await self._sleep(self._budget.deadline)
                elif self._in_flight + self._starting >= plan.max_in_flight:
                    self._wake_on_completion = True  # a completion frees a slot
                    await self._sleep(self._budget.deadline)
                    self._wake_on_completion = False
                else:
                    await self._sleep(arrivals.next_time())
        finally:
            self._held_back_before += arrivals.held_back
            self._open_loop = None

    async def _send(self, seq: int, scheduled: float, starting: bool = False) -> None:
        if starting:
            self._starting -= 1
        client_request_id = new_request_id()
        method, url, headers, body = self.target.prepare(client_request_id, self._plan.hold_ms)
        offset = self._epoch_offset
        self._in_flight += 1
        sent = perf_counter()
        try:
            status, response_headers, payload = await self._client.request(method, url, headers, body)
        except self._client.errors as exc:
            latency = (perf_counter() - sent) * 1000.0
            error, detail = classify_exception(exc)
            outcome = Outcome(
                seq, client_request_id, scheduled + offset, sent + offset, latency, None, error, detail=detail
            )
        except asyncio.CancelledError:
            # Stopped with the request outstanding: it may have reached the function, so it
            # is reported (as 'other') rather than vanishing from the counts.
            self._batches.add(
                Outcome(
                    seq,
                    client_request_id,
                    scheduled + offset,
                    sent + offset,
                    None,
                    None,
                    "other",
                    detail="cancelled: the run stopped before the response arrived",
                )
            )
            raise
        else:
            latency = (perf_counter() - sent) * 1000.0
            response = self.target.read(status, response_headers, payload)
            record = response.record
            if record is not None:
                container_id = record.get("container_id")
                request_id = record.get("request_id")
                cold = record.get("cold")
            else:
                container_id = cold = None
                request_id = response_headers.get("x-amzn-requestid")
            outcome = Outcome(
                seq,
                client_request_id,
                scheduled + offset,
                sent + offset,
                latency,
                status,
                response.error,
                container_id,
                request_id,
                cold,
                record,
                response.detail,
                response.init_duration_ms,
            )
        finally:
            self._in_flight -= 1
            if self._wake_on_completion:
                self._wake()
        if self._batches.add(outcome):
            await self._batches.flush()

    # ---- plumbing ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self._failure is None:
            self._failure = task.exception()
            self._wake()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _wake(self) -> None:
        waker = self._waker
        if waker is not None and not waker.done():
            waker.set_result(None)

    async def _sleep(self, until: float | None = None) -> None:
        """Wait for a control call, a worker change or (if given) perf_counter time `until`."""
        handle = None
        if until is not None:
            delay = until - perf_counter()
            if delay <= 0:
                await asyncio.sleep(0)  # already due: still let other tasks run
                return
            waker = self._waker = self._loop.create_future()
            handle = self._loop.call_later(delay, _resolve, waker)
        else:
            waker = self._waker = self._loop.create_future()
        try:
            await waker
        finally:
            self._waker = None
            if handle is not None:
                handle.cancel()

    async def _drain(self, grace: float | None) -> None:
        """Wait for outstanding requests; once stopping, for at most `stop_grace` seconds.
        Waits in short slices so a stop() during a natural drain still cuts it short."""
        deadline = None if grace is None else perf_counter() + grace
        while self._tasks:
            self._raise_failure()
            if deadline is None and self._stopping:
                deadline = perf_counter() + self._stop_grace
            if deadline is not None and perf_counter() >= deadline:
                return  # what is left is cancelled and reported by _cancel_tasks
            await asyncio.wait(set(self._tasks), timeout=0.1)
        self._raise_failure()

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            # Results were already seen by _task_done; cancellation is the expected end here.
            await asyncio.wait(tasks)


def _hold_allowance_s(plan: Plan) -> float:
    """What a held request may add to the response timeout: the longest hold this run can
    apply (its bound, when the function's timeout gave one; else the hold it starts with)."""
    from loadgen.plan import MAX_HOLD_MS

    longest = plan.max_hold_ms if plan.max_hold_ms < MAX_HOLD_MS else plan.hold_ms
    return longest / 1000.0


def _resolve(fut: "asyncio.Future[None]") -> None:
    if not fut.done():
        fut.set_result(None)
