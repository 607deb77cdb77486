"""The loader's handler: run one share of a plan with loadgen's Runner, stream its outcomes.

`handler(event, context)` returns an iterator of JSON lines (record.py): `hello` at once, one
`batch` per runner batch that has outcomes (a `batch` with none at most once a second, so a
quiet share still shows it is alive), then `end`, or `error` when the share cannot run on. The
load runs on an asyncio loop in a thread of its own; the runtime's thread writes what it yields
to the response stream. Between them a bounded queue: a stream that cannot keep up slows the
batches (the runner's own bounded batcher then slows the load), never grows memory.
"""

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from loadgen.loader import record as R
from loadgen.outcome import Outcome
from loadgen.plan import Plan
from loadgen.runner import Runner
from loadgen.targets import target_from_spec

QUEUED_LINES = 256
HEARTBEAT_S = 1.0
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
    try:
        plan = plan_of(share)
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
        n = 0
        last = time.monotonic()
        async with contextlib.aclosing(runner.run()) as batches:
            async for batch in batches:
                if not batch and time.monotonic() - last < HEARTBEAT_S:
                    continue
                n += 1
                last = time.monotonic()
                await put(_batch_record(index, n, runner.sent, batch))
        await put({"kind": "end", "loader": index, "t": time.time(), "sent": runner.sent, "share": plan.requests})
    except Exception as exc:  # noqa: BLE001 - said in the stream: the monitor reports it
        sent = runner.sent if runner is not None else 0
        await put({"kind": "error", "loader": index, "t": time.time(), "sent": sent, "error": f"{exc}"[:500]})


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

    def drive() -> None:
        try:
            asyncio.run(run_share(share, lines, received_at))
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
