"""Recording size: one real session (the local Lambda, the load process at 200 req/s open loop,
the polling log source), recorded at once in today's format (gzip, interned names, no field kept
twice) and in format 1 (the JSONL of the first release, written here from the same batches), so
the ratio compares like with like. Replays the new file and checks it holds every batch. Prints a
report with the budget beside the ratio (>= 10x smaller than format 1, ✓/✗); asserts nothing.

    make bench      (or: .venv/bin/python -m pytest tests/bench/bench_recording.py -m bench -s)

Environment: RECORDING_BENCH_SECONDS (default 30; the issue's figure is for 150), RECORDING_BENCH_RATE
(default 200 req/s).
"""

import asyncio
import json
import os
import time
from types import SimpleNamespace

import pytest

from loadgen.plan import Plan
from loadgen.process import LoadProcess
from tests.bench.budget import report
from tui.core.errors import mask
from tui.core.load import ProcessLoad
from tui.output.recording import Recorder, Recording

pytestmark = pytest.mark.bench

RATIO_BUDGET = 10.0  # format 2 at least this many times smaller than format 1
SECONDS = float(os.environ.get("RECORDING_BENCH_SECONDS", "30"))
RATE = float(os.environ.get("RECORDING_BENCH_RATE", "200"))
V1_FIELDS = [
    "seq",
    "client_request_id",
    "scheduled_at",
    "sent_at",
    "latency_ms",
    "status",
    "error",
    "container_id",
    "request_id",
    "cold",
    "record",
    "detail",
    "init_duration_ms",
]


class FormatOne:
    """The first release's recorder, line for line (tui/output/recording.py before format 2)."""

    def __init__(self, path, target, now):
        self._fh = open(path, "w", encoding="utf-8")
        self._write({"lambdascope_recording": 1, "t": now, "target": target})

    def _write(self, obj):
        self._fh.write(mask(json.dumps(obj, separators=(",", ":"))) + "\n")

    def log_events(self, events, now, source):
        self._write(
            {
                "t": now,
                "source": source,
                "log": [[e.stream, e.timestamp, e.message, e.event_id, e.ingestion_time] for e in events],
            }
        )

    def outcomes(self, outcomes, stats, now):
        stats = stats.to_dict() if stats is not None else None
        if stats is not None:  # format 1 carried mode, level and paused flat
            plan = stats.pop("plan") or {}
            stats.update(mode=plan.get("mode", ""), level=plan.get("level", 0), paused=plan.get("paused", False))
        self._write(
            {"t": now, "outcomes": [{k: getattr(o, k, None) for k in V1_FIELDS} for o in outcomes], "stats": stats}
        )

    def close(self):
        self._fh.close()


def test_recording_size_against_format_one(tmp_path):
    from tui.aws.sources.factory import open_source
    from tui.aws.target import LocalTarget

    new_path, old_path = tmp_path / "session.rec", tmp_path / "session-v1.jsonl"
    counts = SimpleNamespace(outcomes=0, events=0, log_batches=0, outcome_batches=0)

    async def session():
        async with LocalTarget() as target, open_source(target, "poll") as source:
            now = time.time()
            recorders = [Recorder(str(new_path), target.describe(), now), FormatOne(old_path, target.describe(), now)]
            process = LoadProcess(
                target.load_spec(), Plan("open", RATE, duration=SECONDS), records="new", client=target.http_client
            )
            process.start()
            load = ProcessLoad(process)

            async def outcomes():
                async for item in load.batches():
                    counts.outcomes += len(item.outcomes)
                    counts.outcome_batches += 1
                    for r in recorders:
                        r.outcomes(item.outcomes, item.stats, time.time())

            async def logs():
                async for batch in source.batches():
                    counts.events += len(batch)
                    counts.log_batches += 1
                    for r in recorders:
                        r.log_events(batch, time.time(), source.status.name)

            reader = asyncio.create_task(logs())
            try:
                await outcomes()
                # The logs follow the responses: wait until they hold every invocation (START,
                # probe line, END, REPORT each), or a minute.
                deadline = time.monotonic() + 60
                while counts.events < 4 * counts.outcomes and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                await load.stop()
                for r in recorders:
                    r.close()

    started = time.monotonic()
    asyncio.run(session())
    wall = time.monotonic() - started
    new, old = new_path.stat().st_size, old_path.stat().st_size
    rec = Recording.load(str(new_path))
    replayed_outcomes = sum(len(e["outcomes"]) for e in rec.entries if "outcomes" in e)
    replayed_events = sum(len(e["log"]) for e in rec.entries if "log" in e)
    scale = 150.0 / SECONDS
    print(
        f"\n\nRecording {SECONDS:g} s of open loop at {RATE:g} req/s on the local Lambda ({wall:.0f} s wall, "
        f"load average {os.getloadavg()[0]:.1f}): {counts.outcomes:,} outcomes in {counts.outcome_batches} batches, "
        f"{counts.events:,} log events in {counts.log_batches} batches"
    )
    print("| format | bytes | per request | 2.5 min at this rate |")
    print("|---|---|---|---|")
    for name, size in (("format 1 (JSONL)", old), ("format 2 (gzip, nothing twice)", new)):
        print(f"| {name} | {size:,} | {size / max(counts.outcomes, 1):,.0f} B | {size * scale / 1e6:.1f} MB |")
    if counts.events < 4 * counts.outcomes:
        print(
            f"the logs held {counts.events:,} of the {4 * counts.outcomes:,} events the invocations wrote when the "
            "recording stopped (a minute after the load): both formats hold the same batches, so the ratio stands"
        )
    whole = replayed_outcomes == counts.outcomes and replayed_events == counts.events
    print(
        f"replayed: {replayed_outcomes:,} outcomes, {replayed_events:,} events "
        f"(recorded {counts.outcomes:,}, {counts.events:,}): "
        + ("the file holds every batch" if whole else "batches are missing from the file")
    )
    if not counts.outcomes:
        why = f"the load sent nothing in {SECONDS:g} s, so there was nothing to record"
    elif not whole:
        why = "the replayed file lacks batches the session recorded, so its size is not the session's"
    else:
        why = ""
    report(
        "recording: format 2 smaller than format 1",
        None if why or not new else old / new,
        unit="×",
        fmt="{:.1f}",
        at_least=RATIO_BUDGET,
        why_not=why or "format 2 wrote an empty file",
    )
