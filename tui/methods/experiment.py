"""The blog's experiment without a screen: load the function, read its logs, count containers.

Both channels feed one fleet model: outcomes from the load generator as they come, log events
from a source. When the load ends, it settles: it waits until the logs account for every
invocation the responses reported, and for the requests whose outcome is unknown (sent, but the
answer was lost: a reset, a client timeout, a 5xx without the probe's record; Lambda may well
have run them) until the logs show that many invocations no response reported, or the logs have
been quiet long enough that no more are coming. Whatever is still not accounted for at the
settle timeout is reported (`missing`, `unaccounted`), never claimed as confirmed.

The live poll reads a window behind the newest event; an event stored later than that window
reaches (a loaded machine, a slow shipper) would be missed. So the whole group is swept once
more: when the logs fall quiet with invocations still unconfirmed, and at the end. The source
keeps every event id of the run for that, so nothing is counted twice.
"""

import asyncio
import time
from dataclasses import dataclass, field

from loadgen.outcome import is_function_error
from tui.aws.sources.factory import open_source
from tui.aws.sources.poll import Transient, Unreachable
from tui.aws.target import Target
from tui.core.analysis import feed
from tui.core.fleet import Fleet


@dataclass
class Result:
    fleet: Fleet
    wall_s: float  # first request → logs caught up (or timed out)
    load_s: float  # first request → last response
    log_lag_s: float | None  # last response → logs account for every invocation
    missing: int  # invocations the responses reported that the logs never did
    source_requests: int
    finished_at: float  # epoch seconds: the document's "now"
    unknown: int = 0  # requests sent whose answer was lost (they may or may not have run)
    function_errors: int = 0  # answers with X-Amz-Function-Error: the function ran and failed
    log_only: int = 0  # invocations only the logs reported (the unknown ones that did run)
    source_error: str | None = None  # what the log source last said, one line (masked)
    outcome_errors: dict = field(default_factory=dict)  # error class -> count
    swept_late: int | None = 0  # events only the final sweep found (None: it could not run)
    source_name: str = "poll"  # the log channel that read the run: poll, live tail, kinesis
    source_extra: dict = field(default_factory=dict)  # its own counts (Kinesis: records, shards, ...)
    source_events: int = 0  # log events the channel gave the model (its backfill or sweep included)
    # The same counts when the load ended (`events`, and `swept`/`backfilled` where the channel
    # has them): how much of the run the channel had delivered by then.
    at_load_end: dict = field(default_factory=dict)

    @property
    def unaccounted(self) -> int:
        """Unknown requests the logs did not show as run: lost, or not written yet."""
        return max(0, self.unknown - self.log_only)


# Errors after which the request may have run: the answer, not the request, was lost.
# ("refused" never reached the function; "throttled" and 4xx were refused by Lambda.)
UNKNOWN_OUTCOME = frozenset({"reset", "timeout", "http_5xx", "other"})
KEEP_IDS = 2_000_000  # event ids kept for the final sweep (~200 MB at most; a run rarely nears it)
QUIET_S = 3.0  # logs quiet this long (beyond the lag seen) after the last expected event: done
DRAIN_S = 10.0  # at most this long for a pushed channel to hand over what it holds before the final sweep


class _Tally:
    """The response channel's side of the settle: what the logs still owe us."""

    def __init__(self) -> None:
        # Answers with Lambda's request id (the probe's record, or any function's
        # x-amzn-RequestId): invocations the logs must report.
        self.responded = 0
        self.unknown = 0
        self.function_errors = 0  # the function raised or timed out: it ran, and Lambda said so
        self.errors: dict[str, int] = {}

    def add(self, batch) -> None:
        for o in batch:
            if o.error is None:
                if o.request_id:
                    self.responded += 1
                continue
            self.errors[o.error] = self.errors.get(o.error, 0) + 1
            if is_function_error(o):
                # X-Amz-Function-Error with Lambda's request id: an invocation that ran and
                # failed, which its REPORT line confirms like any other, not a lost answer.
                self.responded += 1
                self.function_errors += 1
            elif o.error in UNKNOWN_OUTCOME:
                self.unknown += 1


async def run_experiment(
    target: Target,
    plan,
    *,
    settle_timeout_s: float = 60.0,
    poll_interval_s: float = 0.5,
    now=time.time,
    fleet: Fleet | None = None,
    start_ms: int | None = None,
    runner_options: dict | None = None,
    steering=None,
    on_batch=None,
    runner=None,
    logs: str = "poll",
) -> Result:
    """Load `target` with `plan`, settle, and return what both channels said. `fleet` (filled as
    it goes) lets a caller print what was measured so far if the run is cancelled. `start_ms`:
    read the logs from then on (default a second before the start); `runner_options` go to the
    load generator (timeouts). `steering` (a `loadgen.steering.Steering`) drives the load through its
    stages and ends it when the plan is done; `on_batch` sees every outcome batch. `runner`: a
    Runner-like load already made (a fan-out of loaders, tui/methods/fanout.py) instead of one here.
    `logs`: the log source (`auto` polls unless the function has lambdascope's Kinesis subscription)."""
    from loadgen.runner import Runner
    from loadgen.targets import target_from_spec

    fleet = Fleet() if fleet is None else fleet
    started = now()
    # A second of slack: the first events can carry timestamps from just before we start.
    since = int((started - 1) * 1000) if start_ms is None else start_ms
    # Every event id of the run is kept (up to KEEP_IDS), so the sweep at the end can tell a
    # late event from one already read.
    async with open_source(
        target, logs, start_ms=since, auto_default="poll", interval=poll_interval_s, keep_ids=KEEP_IDS, now=now
    ) as source:
        reader = asyncio.create_task(_read(source, fleet, now))
        tally = _Tally()
        try:
            if runner is None:
                runner = Runner(
                    target_from_spec(target.load_spec()), plan, client=target.http_client, **(runner_options or {})
                )
            driver = None
            if steering is not None:
                # The plan's clock starts with the load (the runner starts on the first
                # iteration below, with the plan's first stage), not with the set-up before it.
                steering.start(now())
                driver = asyncio.create_task(_steer(runner, steering, now))
            try:
                async for batch in runner.run():
                    fleet.apply_outcomes(batch, now())
                    tally.add(batch)
                    if on_batch is not None:
                        on_batch(batch)
            finally:
                if driver is not None:
                    driver.cancel()
            load_done = now()
            at_load_end = _delivered(source)
            swept: list = []

            async def sweep_now():
                swept.append(await _sweep(source, fleet, now))

            log_lag = await _settle(fleet, tally, reader, settle_timeout_s, load_done, now, sweep_now)
            if hasattr(source, "drain") and not reader.done():
                # What the stream is still delivering is the channel's, not the final sweep's.
                await source.drain(DRAIN_S)
        finally:
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                pass
        await sweep_now()  # and once at the end, after the live reader stopped
    found = [n for n in swept if n is not None]
    swept_late = None if swept and swept[-1] is None else sum(found)
    missing = sum(c.unconfirmed for c in fleet.containers.values()) + fleet.unplaced
    finished = now()
    return Result(
        fleet,
        finished - started,
        load_done - started,
        log_lag,
        missing,
        source.status.requests,
        finished,
        unknown=tally.unknown,
        function_errors=tally.function_errors,
        log_only=_log_only(fleet, tally),
        source_error=source.status.error,
        outcome_errors=dict(tally.errors),
        swept_late=swept_late,
        source_name=source.status.name,
        source_extra=dict(source.status.extra),
        source_events=source.status.events,
        at_load_end=at_load_end,
    )


def _delivered(source) -> dict:
    extra = source.status.extra
    return {"events": source.status.events, **{k: extra[k] for k in ("swept", "backfilled") if k in extra}}


async def _sweep(source, fleet: Fleet, now) -> int | None:
    """One last pass over the whole group: events the live window missed (ingested later than
    the look-back reached: a loaded machine, a slow shipper) still count. How many it found, or
    None when it could not run (ids pruned past KEEP_IDS, or the endpoint failing)."""
    if not hasattr(source, "sweep"):
        return None  # Live Tail backfills by itself; it has no sweep of the whole run
    try:
        late = await source.sweep()
    except (Transient, Unreachable) as exc:
        source.status.error = f"final sweep failed: {exc}"
        return None
    if late:
        feed(fleet, late, now())
    return None if late is None else len(late)


async def _steer(runner, steering, now, tick_s: float = 0.02) -> None:
    """Apply the plan's load as its stages come; stop the runner when the plan is done. The
    plan's clock starts with the first request sent (connections and the first cold starts are
    the run's, not the first stage's set-up), and a 20 ms tick keeps a stage's edge sharp.

    A runner that follows the plan itself (a fan-out's loaders, tui/methods/fanout.py) is never
    steered from here: the plan's clock starts at its shared start, so the stage windows are the
    ones its loaders ran, and it ends with the plan by itself."""
    if getattr(runner, "follows_plan", False):
        while runner.start_at is None:
            await asyncio.sleep(0.005)
        steering.start(runner.start_at)
        return
    while runner.sent == 0 and not steering.events:
        await asyncio.sleep(0.005)
    steering.start(now())
    while not steering.done(now()):
        plan = steering.tick(now())
        if plan is not None:
            runner.apply(plan)
        await asyncio.sleep(tick_s)
    runner.stop()


def _log_only(fleet: Fleet, tally: _Tally) -> int:
    """Invocations the logs reported that no response did (the fleet counts each id once)."""
    return max(0, fleet.counters.invocations - tally.responded)


async def _read(source, fleet: Fleet, now) -> None:
    async for batch in source.batches():
        feed(fleet, batch, now())


async def _settle(
    fleet: Fleet, tally: _Tally, reader: asyncio.Task, timeout_s: float, load_done: float, now, sweep=None
) -> float | None:
    """Wait until the logs account for every answered invocation and every unknown request (or
    fall quiet for good). Returns the lag from the last response until the logs had reported
    every answered invocation, or None if they never did before the timeout.

    "Quiet" waits QUIET_S plus the longest response-to-log lag seen, after the last new log
    invocation: an unknown request that ran shows up in the logs about as late as a known one.
    Quiet with invocations still unconfirmed, `sweep()` (once) reads the whole group again: what
    the live window missed is found there rather than waited for until the timeout.
    """
    deadline = load_done + timeout_s
    seen = fleet.counters.invocations
    last_change = now()
    known_at = None
    while now() < deadline:
        if reader.done():
            reader.result()  # a fatal source error (credentials, permissions) surfaces here
            return None
        t = now()
        if fleet.counters.invocations != seen:
            seen, last_change = fleet.counters.invocations, t
        # Answers still waiting for the logs to name their stream (SnapStart) are owed too.
        # So are function errors (their REPORT names the stream they ran in).
        if (
            not fleet.unplaced
            and not fleet.failed_unreported
            and all(c.unconfirmed == 0 and not c.in_flight for c in fleet.containers.values())
        ):
            known_at = t if known_at is None else known_at
            if _log_only(fleet, tally) >= tally.unknown:
                return known_at - load_done
            if t - last_change > QUIET_S + fleet.counters.log_lag_max_s:
                return known_at - load_done  # no more are coming: the rest are unaccounted
        else:
            known_at = None
            if sweep is not None and t - last_change > QUIET_S + fleet.counters.log_lag_max_s:
                await sweep()
                sweep, last_change = None, now()
        await asyncio.sleep(0.05)
    return known_at - load_done if known_at is not None else None
