"""--fan-out N: the plan run by N loader functions, their outcome streams merged into one run.

The plan is split into N shares (loadgen/split.py: the remainder spread, never dropped); each
is one InvokeWithResponseStream of the loader function (`lambdascope-loader`; on the local
Lambda its second function), all with the same scheduled start a moment ahead, so every loader
schedules from one time. Each streams JSON records back (loadgen/loader/record.py); `FanOut`
reads them all and looks to the experiment like a Runner: `run()` yields outcome batches (the
request ids the logs must confirm, times moved onto this machine's clock), `sent` counts what
the loaders said they sent. What only a fan-out knows is kept here: the merged HDR histogram
(p50/p99 from the merge, never an average of the loaders' percentiles), counts by class, and per
loader its share, what it reported, its clock offset and how it ended.

With `ramp` (run --fan-out N --plan FILE) every loader is given the whole plan and the run's base
plan with the shared start, and follows it itself (loadgen/loader/follow.py): its part of each
moment, the parts adding up to the plan at every moment. The monitor's own Steering then only
keeps the plan's clock from the same start (stage windows, the effective plan), and never stops
the loaders: each ends with the plan.

A loader that dies (its stream cut, a timeout, throttled, an error record) is reported with the
share it did not send: the requests it said it sent without an outcome are handed on as
outcomes of unknown fate (error 'other'), so the settle looks for them in the logs; the rest of
its share was never sent. Nothing is retried: a retried share would send its load twice.

Steering a running fan-out (the keys in watch --fan-out): `apply(plan)` writes the whole plan
to the run's control object, which every loader polls and runs its part of (fanout_control.py,
loadgen/loader/control.py: why a polled object, not a message to the invocation); each loader
says what it applied in a `level` record, and `changes` times how long each change took to
reach them all. `close()` writes a stop there too: on AWS a loader's invocation outlives its
caller's connection, so cutting the streams alone would leave it loading until its timeout.

Clock offset per loader (its clock minus ours), bounded from both sides: at most L1 - T0 (the
share left here at T0, our clock, and reached the loader at L1, its clock: a delay is never
negative), at least the largest L - T over its records (written at L, its clock, read here at
T). NTP's midpoint would be wrong here: the way out includes the loader's cold start, the way
back only the stream's delay, so the lower bound is the close one; outcomes are moved by it.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field

from loadgen.loader import record as R
from loadgen.outcome import Outcome
from loadgen.plan import Plan
from loadgen.ramp import RampPlan
from loadgen.split import share_of, split_plan
from tui.aws import clients
from tui.core.load import LoadRefused
from tui.methods.fanout_control import Changes, ControlObject

LOADER_FUNCTION = "lambdascope-loader"
START_AHEAD_S = 1.5  # the shared start: time for N invocations to reach their loaders
LATE_S = 0.1  # a loader reached later than this after the shared start: said, with how late
MAX_LINE = 16 * 1024 * 1024  # a record longer than this is a broken loader, not a big batch


@dataclass
class LoaderState:
    index: int
    plan: Plan
    rows: int = 0  # outcomes it reported
    sent: int = 0  # requests it said it had sent (its last record)
    offset_s: float | None = None  # its clock minus ours: the lower bound (see the module doc)
    offset_max_s: float | None = None  # the upper bound
    ended: str | None = None  # "end" | "error: ..." | "died: ..."
    counts: dict = field(default_factory=dict)
    bad_lines: int = 0
    first_sent: float | None = None  # this clock: when its first reported request left
    follows: RampPlan | None = None  # the plan it follows, if any (then `plan` is its first moment)
    gen: int = 0  # the control object's generation it last said it runs
    part: Plan | None = None  # its part of that generation (None: its share's own plan)
    sent_at_level: int | None = None  # what it had sent when it applied that generation
    received_at: float | None = None  # its clock: when its share reached it (its `hello`)
    start_at: float | None = None  # this clock: the shared start

    @property
    def ok(self) -> bool:
        return self.ended == "end"

    @property
    def late_s(self) -> float | None:
        """How long after the shared start its share reached it, on this clock (None: not
        known, or in time). An estimate from above: the offset's lower bound is the close one."""
        if self.received_at is None or self.offset_s is None or self.start_at is None:
            return None
        late = self.received_at - self.offset_s - self.start_at
        return late if late > LATE_S else None

    @property
    def not_reported(self) -> int | None:
        """Of its share, the requests it reported no outcome for (None: a duration share)."""
        return None if self.plan.requests is None else self.plan.requests - self.rows

    def line(self) -> str:
        if self.follows is not None:
            share, level = "its part", f"each moment of the plan ({len(self.follows.stages)} stages)"
        else:
            p = self.plan
            share = (
                f"{p.requests} requests"
                if p.requests is not None
                else f"{p.duration:g} s"
                if p.duration is not None
                else "until stopped"
            )
            level = f"{int(self.plan.level)} workers" if self.plan.mode == "closed" else f"{self.plan.level:g}/s"
        if self.offset_s is None:
            offset = "clock offset unknown"
        else:
            offset = f"clock offset {self.offset_s * 1000:+.1f} ms"
            if self.offset_max_s is not None:
                offset += f" (at most {self.offset_max_s * 1000:+.1f} ms)"
        text = f"loader {self.index}: share {share} at {level}; reported {self.rows}; {offset}"
        if self.late_s is not None:
            missed = "missed that much of the plan" if self.follows is not None else "its share ran that much later"
            text += f"; reached it {self.late_s:.1f} s after the shared start ({missed})"
        if self.gen and self.part is not None:  # a key changed its level: the last one it ran
            now = f"{int(self.part.level)} workers" if self.part.mode == "closed" else f"{self.part.level:g}/s"
            text += f"; level change {self.gen}: {'paused' if self.part.paused else now}"
        if not self.ok:
            lost = self.sent - self.rows
            unsent = "" if self.plan.requests is None else f", {max(0, self.plan.requests - self.sent)} never sent"
            text += f"; {self.ended}: {max(0, lost)} sent without an outcome{unsent}"
        return text


class FanOut:
    """Runner-like: `run()` yields batches of Outcome; `sent`; `stop()`. See the module doc."""

    def __init__(
        self,
        target,
        plan: Plan,
        loaders: int,
        *,
        ramp: RampPlan | None = None,
        batch_s: float = 0.25,
        client: str = "aiohttp",
        control: ControlObject | None = None,
    ):
        self.target = target
        self.plan = plan
        self.ramp = ramp
        # A plan's moment with fewer workers than loaders pauses the extra ones (split.share_of);
        # a fixed load that cannot give each loader a part is refused (split.split_plan).
        self.shares = (
            [share_of(plan, i, loaders) for i in range(loaders)] if ramp is not None else split_plan(plan, loaders)
        )
        self.states = [LoaderState(i, p, follows=ramp) for i, p in enumerate(self.shares)]
        self.batch_s = batch_s
        self.client_kind = client
        self.histogram = R.new_histogram()
        self.counts: dict[str, int] = {}
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=64)
        self._tasks: list[asyncio.Task] = []
        self._seq = 0
        self.start_at: float | None = None
        self.first_sent: float | None = None  # this clock: the load's own span, not the set-up
        self.last_done: float | None = None
        self.control = control  # where keys write the level (None: this fan-out cannot be steered)
        self.changes = Changes(plan)
        self._closing = False

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.states)

    @property
    def reported(self) -> int:
        """Outcomes the loaders have reported (every request sent, once its batch came)."""
        return sum(s.rows for s in self.states)

    @property
    def in_flight(self) -> int:
        """Requests the running loaders said they sent and have not yet reported an outcome for
        (the stream's own delay included: a batch is at most batch_s old). A dead loader's are
        handed on as unknown fate (_lost), not counted here."""
        return sum(max(0, s.sent - s.rows) for s in self.states if s.ended is None)

    @property
    def follows_plan(self) -> bool:
        """The loaders follow the ramp themselves: the monitor's Steering must not apply it again."""
        return self.ramp is not None

    @property
    def alive(self) -> list[int]:
        """The loaders still running their share (started or about to)."""
        return [s.index for s in self.states if s.ended is None]

    @property
    def running_plan(self) -> Plan:
        """The whole plan the loaders run: the newest change every running loader has applied."""
        return self.changes.running({s.index: s.gen for s in self.states if s.ended is None})

    def apply(self, plan: Plan) -> None:
        """Every loader's level from now on: the whole plan to the control object (never waits)."""
        if self.control is None:
            raise LoadRefused("this fan-out has no control object to steer it with")
        if self._tasks and not self.alive:
            raise LoadRefused("every loader has ended")
        gen = self.changes.ask(plan, time.time())
        self.control.ask({"run": self.control.run_id, "gen": gen, "plan": plan.to_dict(), "at": time.time()})

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def close(self, timeout: float = 10.0) -> None:
        """Stop every loader through the control object (each ends its share within a poll),
        wait for their streams to end (at most `timeout`), then cut what is left."""
        if self._closing:
            return
        self._closing = True
        if self.control is not None and self._tasks:
            self.control.ask({"run": self.control.run_id, "gen": self.changes.gen + 1, "stop": True})
            await self.control.flush(timeout / 2)
            await asyncio.wait(self._tasks, timeout=timeout / 2)
        self.stop()

    def share_event(self, state: LoaderState, issued_at: float) -> dict:
        p = state.plan
        return {
            "lambdascope_loader": R.VERSION,
            "loader": state.index,
            "loaders": len(self.states),
            "mode": p.mode,
            "level": p.level,
            "requests": p.requests,
            "duration_s": p.duration,
            "hold_ms": p.hold_ms,
            "max_in_flight": p.max_in_flight,
            "target": self._target_spec(),
            "start_at": self.start_at,
            "issued_at": issued_at,
            "batch_s": self.batch_s,
            "client": self.client_kind,
            **({"control": self.control.spec()} if self.control is not None else {}),
            **({"ramp": self.ramp.to_dict(), "whole": self.plan.to_dict()} if self.ramp is not None else {}),
        }

    def _target_spec(self) -> dict:
        spec = self.target.load_spec()
        if self.target.kind == "aws":
            spec.pop("profile", None)  # a profile of this machine: on Lambda the loader signs as its role
        return spec

    async def run(self):
        t = self.target
        session = clients.make_session(t.profile, t.region)
        async with clients.client(
            session,
            "lambda",
            endpoint_url=t.invoke_endpoint,
            credentials=t.local_credentials,
            region=t.region,
            max_attempts=1,  # a retried share would be sent twice
            # Each loader holds its stream open for the whole run: with botocore's 10 connections
            # the 11th loader waited for one to end (16 loaders: 6 started at 7.5 s, after a 6 s plan).
            max_pool_connections=len(self.states),
        ) as lam:
            if self.control is not None:
                # Generation 0 is the plan the shares start with: the object exists before any reads.
                await self.control.open({"run": self.control.run_id, "gen": 0, "plan": self.plan.to_dict()})
            self.start_at = time.time() + START_AHEAD_S
            for state in self.states:
                state.start_at = self.start_at
            self._tasks = [asyncio.create_task(self._one(lam, s)) for s in self.states]
            waiter = asyncio.ensure_future(asyncio.gather(*self._tasks, return_exceptions=True))
            try:
                while True:
                    getter = asyncio.ensure_future(self._queue.get())
                    await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if getter.done():
                        yield getter.result()
                        continue
                    getter.cancel()
                    break
                while not self._queue.empty():
                    yield self._queue.get_nowait()
            finally:
                self.stop()
                await asyncio.gather(waiter, return_exceptions=True)
                if self.control is not None:
                    await self.control.close()

    async def _one(self, lam, state: LoaderState) -> None:
        issued = time.time()
        try:
            resp = await lam.invoke_with_response_stream(
                FunctionName=LOADER_FUNCTION, Payload=json.dumps(self.share_event(state, issued)).encode()
            )
            buf = bytearray()
            async for event in resp["EventStream"]:
                if "PayloadChunk" in event:
                    buf += event["PayloadChunk"]["Payload"]
                    while (cut := buf.find(b"\n")) >= 0:
                        line, buf[:] = bytes(buf[:cut]), buf[cut + 1 :]
                        await self._record(state, line, issued)
                    if len(buf) > MAX_LINE:
                        state.ended = "died: a record over 16 MiB"
                        break
                elif "InvokeComplete" in event:
                    done = event["InvokeComplete"]
                    if done.get("ErrorCode") and state.ended in (None, "end"):
                        state.ended = f"died: {done['ErrorCode']}"
            if state.ended is None:
                state.ended = "died: its stream ended before its last record"
        except asyncio.CancelledError:
            state.ended = state.ended or "died: stopped"
            raise
        except Exception as exc:  # noqa: BLE001 - throttled, timed out, cut: the loader's fate, reported
            state.ended = f"died: {type(exc).__name__}: {str(exc)[:200]}"
        finally:
            await self._lost(state)

    async def _record(self, state: LoaderState, line: bytes, issued: float) -> None:
        try:
            rec = json.loads(line)
            kind = rec["kind"]
        except (ValueError, KeyError, TypeError):
            state.bad_lines += 1
            return
        try:
            behind = float(rec["t"]) - time.time()
            state.offset_s = behind if state.offset_s is None else max(state.offset_s, behind)
        except (KeyError, TypeError, ValueError):
            state.bad_lines += 1
            return
        if kind == "hello":
            received = float(rec.get("received_at") or 0.0)
            state.offset_max_s = received - issued
            state.received_at = received or None
            return
        if kind == "level":
            self._level(state, rec)
            return
        state.sent = max(state.sent, int(rec.get("sent") or 0))
        if kind == "batch":
            await self._batch(state, rec)
        elif kind == "end":
            state.ended = "end"
        elif kind == "error":
            state.ended = f"error: {str(rec.get('error'))[:200]}"

    async def _batch(self, state: LoaderState, rec: dict) -> None:
        shift = state.offset_s or 0.0
        batch = []
        for values in rec.get("rows") or ():
            try:
                self._seq += 1
                batch.append(R.outcome_from_row(values, self._seq, shift))
            except (ValueError, TypeError):
                state.bad_lines += 1
        state.rows += len(batch)
        if batch:
            first = min(o.sent_at for o in batch)
            state.first_sent = first if state.first_sent is None else min(state.first_sent, first)
        for o in batch:
            done = o.sent_at + (o.latency_ms or 0.0) / 1000.0
            self.first_sent = o.sent_at if self.first_sent is None else min(self.first_sent, o.sent_at)
            self.last_done = done if self.last_done is None else max(self.last_done, done)
        for cls, n in (rec.get("counts") or {}).items():
            state.counts[cls] = state.counts.get(cls, 0) + int(n)
            self.counts[cls] = self.counts.get(cls, 0) + int(n)
        if rec.get("hist"):
            try:
                self.histogram.add(R.decode_histogram(rec["hist"]))
            except Exception:  # noqa: BLE001 - hdrh raises its own types on a bad blob
                state.bad_lines += 1
        if batch:
            await self._queue.put(batch)

    def _level(self, state: LoaderState, rec: dict) -> None:
        """A loader applied a generation of the control object: when (on this clock), and its part."""
        try:
            gen = int(rec["gen"])
            part = Plan.from_dict(rec["part"]) if isinstance(rec.get("part"), dict) else None
        except (KeyError, TypeError, ValueError):
            state.bad_lines += 1
            return
        if gen >= state.gen and part is not None:
            state.gen, state.part, state.sent_at_level = gen, part, int(rec.get("sent") or 0)
        self.changes.applied(state.index, gen, float(rec["t"]) - (state.offset_s or 0.0), time.time())
        if not self._queue.full():
            self._queue.put_nowait([])  # no outcome, but the running plan changed: a report now

    async def _lost(self, state: LoaderState) -> None:
        """A dead loader's requests sent without an outcome: unknown fate, for the logs to settle."""
        if state.ok:
            return
        lost = max(0, state.sent - state.rows)
        now = time.time()
        batch = []
        for _ in range(lost):
            self._seq += 1
            batch.append(
                Outcome(self._seq, f"lost-{state.index}-{self._seq}", now, now, None, None, "other", detail=state.ended)
            )
        if batch:
            self._queue.put_nowait(batch) if not self._queue.full() else await self._queue.put(batch)

    # -- what the run prints -----------------------------------------------------------------
    def percentiles(self) -> tuple[float | None, float | None]:
        if not self.histogram.get_total_count():
            return None, None
        values = self.histogram.get_percentile_to_value_dict([50, 99])
        return values[50] / 1000.0, values[99] / 1000.0

    def summary_lines(self) -> list[str]:
        p50, p99 = self.percentiles()
        ok = self.counts.get("ok", 0)
        errors = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()) if k != "ok") or "none"
        pct = "no successful request" if p50 is None else f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (merged histograms)"
        reported = self.reported
        span = (self.last_done - self.first_sent) if self.first_sent is not None and self.last_done else 0.0
        rate = f"{reported / span:.0f}/s merged over {span:.2f} s, first sent to last answer" if span > 0 else "no span"
        head = (
            f"fan-out: {len(self.states)} loaders reported {reported} outcomes ({ok} ok; errors: {errors}); "
            f"{rate}; {pct}"
        )
        short = [s for s in self.states if not s.ok]
        lines = [head, *("  " + s.line() for s in self.states)]
        change = self.changes.line([s.index for s in self.states if s.ended in (None, "end")])
        if change:
            lines.append(f"fan-out: {change}")
        late = [s.late_s for s in self.states if s.late_s is not None]
        if late:
            lines.append(
                f"fan-out: {len(late)} loader(s) reached their share after the shared start (the latest "
                f"{max(late):.1f} s after it): their invocations took longer than the {START_AHEAD_S:g} s it allows"
            )
        if short:
            missing = sum(s.not_reported or 0 for s in short)
            lines.append(
                f"fan-out: {len(short)} loader(s) did not finish: {missing} requests of their shares have no outcome"
            )
        return lines

    def quota_line(self, target_concurrency: int | None, limit: int | None) -> str:
        return quota_line(len(self.states), target_concurrency, limit)


def quota_line(loaders: int, target_concurrency: int | None, limit: int | None) -> str:
    """What a fan-out of `loaders` asks of the account's concurrency quota, said before it runs."""
    need = (
        f"{loaders} loaders + up to {target_concurrency} environments of the target"
        if target_concurrency
        else f"{loaders} loaders"
    )
    where = f" of the account's {limit}" if limit else ""
    return f"fan-out: the loaders run on Lambda too and count against the concurrency quota: {need}{where}"
