"""Fakes for the monitor's collaborators, and synthetic traffic.

`FakeLoad` records every plan it is given (echoing it, as the load process does) and yields the
batches a test feeds it; `FakeSource` is a
log source fed the same way. `Traffic` makes invocations on both channels: outcomes (the
response channel) and the log events Lambda would write for them (START, probe line, END,
REPORT, INIT_START on a cold start), in the platform's text format.
"""

import asyncio
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot
from tui.core.events import LogEvent, SourceStatus
from tui.core.fleet import Fleet
from tui.core.load import LoadItem
from tui.core.target_info import TargetInfo
from tui.output.recording import RecordedOutcome, open_replay
from tui.screen.app import MonitorApp

T0 = 1_795_789_200.0
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "session.jsonl"


def _fixture_counts() -> tuple[int, int]:
    requests = events = 0
    for line in FIXTURE.read_text().splitlines():
        entry = json.loads(line)
        requests += len(entry.get("outcomes", ()))
        events += len(entry.get("log", ()))
    return requests, events


FIXTURE_REQUESTS, FIXTURE_EVENTS = _fixture_counts()  # outcomes (throttles included), log events
SIZE = (150, 40)


class FakeLoad:
    """A load controller: every call is recorded (each plan applied, then "stop"), and each plan
    is echoed back in the next report with the figures last fed, as the load process does;
    batches come from `feed`."""

    def __init__(self) -> None:
        self.calls: list = []
        self._queue: asyncio.Queue = asyncio.Queue()
        self._last = StatsSnapshot()
        self.stopped = False

    @property
    def plans(self) -> list[Plan]:
        return [c for c in self.calls if isinstance(c, Plan)]

    def apply(self, plan: Plan) -> None:
        self.calls.append(plan)
        self._queue.put_nowait(LoadItem([], replace(self._last, plan=plan)))

    async def stop(self) -> None:
        self.calls.append("stop")
        self.stopped = True
        self._queue.put_nowait(None)

    def feed(self, outcomes, stats: StatsSnapshot | dict | None = None) -> None:
        if isinstance(stats, dict):
            stats = StatsSnapshot.from_dict(stats)
        if stats is not None:
            if stats.plan is None and self.plans:
                stats = replace(stats, plan=self.plans[-1])
            self._last = stats
        self._queue.put_nowait(LoadItem(list(outcomes), stats))

    async def batches(self):
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item


class FakeSource:
    def __init__(self, name: str = "fake") -> None:
        self.status = SourceStatus(name=name)
        self._queue: asyncio.Queue = asyncio.Queue()
        self.closed = False

    def feed(self, events):
        self._queue.put_nowait(list(events))

    def fail(self, exc: Exception):
        self._queue.put_nowait(exc)

    async def batches(self):
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            self.status.events += len(item)
            yield item

    async def close(self):
        self.closed = True
        self._queue.put_nowait(None)


@dataclass
class Clock:
    t: float = T0

    def __call__(self) -> float:
        return self.t


HOSTS = [
    ("host-a", "Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz"),
    ("host-b", "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz"),
    ("host-c", "AMD EPYC 7R13 Processor"),
]


def stream(i: int) -> str:
    return f"2026/11/27/[$LATEST]{i:08x}" + "0" * 24


@dataclass
class Traffic:
    """Invocations on both channels, deterministic."""

    seq: int = 0
    seen: set = field(default_factory=set)

    def invoke(self, container: int, t: float, host: int | None = None):
        """(outcome, log events) for one invocation of container `container` at time t."""
        self.seq += 1
        rid = f"req-{self.seq:08d}"
        s = stream(container)
        cold = container not in self.seen
        self.seen.add(container)
        name, cpu = HOSTS[(container if host is None else host) % len(HOSTS)]
        record = {
            "lambdascope": 1,
            "container_id": s,
            "request_id": rid,
            "cold": cold,
            "hostname": name,
            "boot_id": "boot-" + name,
            "cpu_model": cpu,
        }
        outcome = RecordedOutcome(
            sent_at=t, latency_ms=4.0, status=200, container_id=s, request_id=rid, cold=cold, record=record
        )
        ms = int(t * 1000)
        events = []
        if cold:
            events.append(LogEvent(s, ms - 120, "INIT_START Runtime Version: python:3.11.v88"))
        events += [
            LogEvent(s, ms, f"START RequestId: {rid} Version: $LATEST"),
            LogEvent(s, ms + 1, json.dumps(record)),
            LogEvent(s, ms + 2, f"END RequestId: {rid}"),
            LogEvent(
                s,
                ms + 2,
                f"REPORT RequestId: {rid}\tDuration: 2.00 ms\tBilled Duration: 3 ms\t"
                f"Memory Size: 128 MB\tMax Memory Used: 41 MB\t" + ("Init Duration: 118.50 ms\t" if cold else ""),
            ),
        ]
        return outcome, events


def make_app(*, load=None, sources=(), clock=None, tmp_path=None, **kwargs) -> MonitorApp:
    return MonitorApp(
        target=TargetInfo("local", "lambdascope-probe", "us-east-1", simulated_hosts=True),
        load=load,
        sources=sources,
        clock=clock or Clock(),
        fleet=kwargs.pop("fleet", screen_fleet()),
        snapshot_dir=str(tmp_path / "snaps") if tmp_path else "lambdascope-snapshots",
        **kwargs,
    )


def fixture_app(**kwargs) -> MonitorApp:
    """The recorded fixture, played all at once, the clock frozen at its end."""
    r = open_replay(str(FIXTURE), speed=None)
    kwargs.setdefault("fleet", screen_fleet())
    return MonitorApp(
        target=r.target, load=r.load, load_state=r.load_state, sources=r.sources, clock=r.clock, replay=r, **kwargs
    )


def screen_fleet() -> Fleet:
    """The model with 1 s base buckets: these tests' figures (columns, zoom, axis labels) were
    written for them; the app itself runs on the model's default 0.1 s."""
    return Fleet(bucket_s=1.0)


async def until(pilot, cond, timeout: float = 10.0) -> None:
    """Let the app run until `cond()` holds (workers and handlers are asynchronous)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


async def settle_fixture(pilot) -> None:
    """Wait until the whole fixture is applied, then draw once."""
    app = pilot.app
    await until(pilot, lambda: app.fleet.counters.requests >= FIXTURE_REQUESTS and app.events_applied >= FIXTURE_EVENTS)
    await pilot.pause()
    app.refresh_view()
    await pilot.pause()


def screen_text(app) -> str:
    """The screen as plain text lines (what a user reads), from the app's SVG export."""
    import html
    import re

    svg = app.export_screenshot()
    rows: dict[int, list] = {}
    pattern = (
        r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
        r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>'
    )
    for m in re.finditer(pattern, svg):
        rows.setdefault(int(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3))))
    lines = []
    for n in range(max(rows) + 1 if rows else 0):
        line = ""
        for x, text in sorted(rows.get(n, [])):
            line = line.ljust(int(round(x / 12.2))) + text
        lines.append(line.replace("\xa0", " ").rstrip())
    return "\n".join(lines)
