"""The loader's handler: run one share of a plan with loadgen's Runner, stream its outcomes.

A share with a `ramp` (the whole plan, record.py) follows it: the loader runs the plan's clock
from the shared start and applies its part of each moment (follow.py), and ends with the plan.

`handler(event, context)` returns an iterator of JSON lines (record.py): `hello` at once, one
`batch` per runner batch that has outcomes (a `batch` with none at most once a second, so a
quiet share still shows it is alive), then `end`, or `error` when the share cannot run on. The
load runs on an event loop in a thread of its own; the runtime's thread writes what it yields
to the response stream. Between them a bounded queue: a stream that cannot keep up slows the
batches (the runner's own bounded batcher then slows the load), never grows memory.

The loop is uvloop's and the collector runs by loadgen's long-run policy, as in the load
process on the monitor's machine (loadgen/child.py): a loader is the same load, elsewhere.
"""

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvloop

from loadgen import gc_policy, ramp
from loadgen.loader import record as R
from loadgen.loader.control import ControlPoller
from loadgen.loader.follow import ShareSteering
from loadgen.outcome import Outcome
from loadgen.plan import Plan
from loadgen.runner import Runner
from loadgen.targets import target_from_spec

QUEUED_LINES = 256
HEARTBEAT_S = 1.0
TICK_S = 0.02  # as the monitor's own steering: a stage's edge within 20 ms
_END = b""


class ShareError(ValueError):
    """A share this loader cannot run (a bad event)."""


def parse_share(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("lambdascope_loader") != R.VERSION:
        raise ShareError("not a lambdascope loader share (lambdascope_loader: 1 missing)")
    for key in ("loader", "mode", "level", "target", "start_at"):
        if key not in event:
            raise ShareError(f"a loader share needs {key!r}")
    return event


def follower_of(share: dict[str, Any]) -> ShareSteering | None:
    """The plan this share follows (None: a share of one fixed load)."""
    if not share.get("ramp"):
        return None
    whole = Plan.from_dict(share.get("whole") or {})
    return ShareSteering(
        ramp.from_dict(share["ramp"]), whole, int(share["loader"]), int(share["loaders"]), float(share["start_at"])
    )


async def follow(runner: Runner, steering: ShareSteering) -> None:
    """Apply this loader's part as the plan's stages come; stop the runner when the plan is done."""
    try:
        while not steering.done(time.time()):
            part = steering.tick(time.time())
            if part is not None:
                runner.apply(part)
            await asyncio.sleep(TICK_S)
    finally:
        runner.stop()  # also when the steering broke: the share never outlives its plan


async def listen(runner: Runner, share: dict[str, Any], put: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Run the level the monitor writes to the control object (control.py), saying each change
    in a `level` record as soon as the runner has it."""
    index = int(share["loader"])
    poller = ControlPoller(share["control"], index, int(share["loaders"]))

    async def said(gen: int, part: Plan | None) -> None:
        await put(
            {
                "kind": "level",
                "loader": index,
                "gen": gen,
                "t": time.time(),
                "sent": runner.sent,
                "part": None if part is None else part.to_dict(),
                "poll_failures": poller.failures,
            }
        )

    await poller.run(runner.apply, runner.stop, said)


def plan_of(share: dict[str, Any]) -> Plan:
    return Plan(
        mode=str(share["mode"]),
        level=float(share["level"]),
        requests=share.get("requests"),
        duration=share.get("duration_s"),
        max_in_flight=int(share.get("max_in_flight") or 1000),
        hold_ms=int(share.get("hold_ms") or 0),
    )


async def run_share(share: dict[str, Any], emit: "queue.Queue[bytes]", received_at: float) -> None:
    """Run the share; every record goes through `emit` (blocking put, from this loop's thread)."""
    index = share["loader"]
    loop = asyncio.get_running_loop()

    async def put(rec: dict[str, Any]) -> None:
        await loop.run_in_executor(None, emit.put, R.line(rec))

    await put({"kind": "hello", "loader": index, "received_at": received_at, "t": time.time()})
    runner: Runner | None = None
    steer: asyncio.Task[None] | None = None
    try:
        steering = follower_of(share)
        plan = steering.start_plan() if steering is not None else plan_of(share)
        target = target_from_spec(share["target"])
        delay = float(share["start_at"]) - time.time()
        if delay > 0:
            await asyncio.sleep(delay)  # every loader starts at the shared time
        runner = Runner(
            target,
            plan,
            batch_interval=float(share.get("batch_s") or 0.25),
            client=str(share.get("client") or "aiohttp"),
            timeout=float(share.get("timeout_s") or 30.0),
        )
        if steering is not None:
            steer = asyncio.create_task(follow(runner, steering))
        elif share.get("control"):
            steer = asyncio.create_task(listen(runner, share, put))
        n = 0
        last = time.monotonic()
        async with contextlib.aclosing(runner.run()) as batches:
            async for batch in batches:
                if not batch and time.monotonic() - last < HEARTBEAT_S:
                    continue
                n += 1
                last = time.monotonic()
                await put(_batch_record(index, n, runner.sent, batch))
        if steer is not None and steer.done() and not steer.cancelled() and steer.exception():
            raise steer.exception()  # type: ignore[misc]  # said as this share's error record
        await put({"kind": "end", "loader": index, "t": time.time(), "sent": runner.sent, "share": plan.requests})
    except Exception as exc:  # noqa: BLE001 - said in the stream: the monitor reports it
        sent = runner.sent if runner is not None else 0
        await put({"kind": "error", "loader": index, "t": time.time(), "sent": sent, "error": f"{exc}"[:500]})
    finally:
        if steer is not None:
            steer.cancel()


def _batch_record(index: int, n: int, sent: int, batch: list[Outcome]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    hist = R.new_histogram()
    for o in batch:
        cls = o.error or "ok"
        counts[cls] = counts.get(cls, 0) + 1
        if o.error is None and o.latency_ms is not None:
            R.record_latency(hist, o.latency_ms)
    return {
        "kind": "batch",
        "loader": index,
        "n": n,
        "t": time.time(),
        "sent": sent,
        "counts": counts,
        "hist": R.encode_histogram(hist) if hist.get_total_count() else None,
        "rows": [R.row(o) for o in batch],
    }


def handler(event: Any, context: Any) -> Iterator[bytes]:
    received_at = time.time()
    share = parse_share(event)  # raises before the first chunk: an /error, as Lambda reports it
    lines: queue.Queue[bytes] = queue.Queue(maxsize=QUEUED_LINES)
    gc_policy.tune()

    def drive() -> None:
        try:
            uvloop.run(run_share(share, lines, received_at))
        finally:
            lines.put(_END)

    thread = threading.Thread(target=drive, name="loader", daemon=True)
    thread.start()
    while True:
        chunk = lines.get()
        if chunk == _END:
            break
        yield chunk
    thread.join()
