"""Record a session's two channels to a JSONL file, and play one back into the monitor.

One line per batch, as the app received it:
    {"lambdascope_recording": 1, "t": …, "target": {…}}          first line
    {"t": …, "source": "poll", "log": [[stream, ts_ms, message, event_id, ingestion_ms], …]}
    {"t": …, "outcomes": [{seq, sent_at, latency_ms, status, error, container_id, …}], "stats": {…}}
    {"t": …, "load": {"mode": …, "level": …, "paused": …}}
`t` is the monitor's clock when the batch arrived. The probe record inside an outcome never holds
environment variables (the probe does not print them), so a recording holds no credential.

Playback: `open_replay` gives what `MonitorApp` takes (sources, a load stand-in, a clock) with
the batches arriving at their recorded times, `speed` times faster; speed=None plays all at once.
"""

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Callable

from tui.control import LoadItem, LoadState
from tui.errors import UserError, mask
from tui.sources.base import LogEvent, SourceStatus
from tui.widgets.header import TargetInfo

SCHEMA = 1


@dataclass(slots=True)
class RecordedOutcome:
    """An outcome as recorded: every field the fleet model and the header read."""

    seq: int | None = None
    client_request_id: str | None = None
    scheduled_at: float | None = None
    sent_at: float = 0.0
    latency_ms: float | None = None
    status: int | None = None
    error: str | None = None
    container_id: str | None = None
    request_id: str | None = None
    cold: bool | None = None
    record: dict | None = None
    detail: str | None = None
    init_duration_ms: float | None = None


OUTCOME_FIELDS = [f.name for f in fields(RecordedOutcome)]


class Recorder:
    """Appends batches to a JSONL file; `close` flushes. Opened by `watch --record FILE`."""

    def __init__(self, path: str, target: dict, now: float):
        try:
            self._fh = open(path, "w", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write the recording {path}: {exc.strerror or exc}; choose another --record") \
                from None
        self.path = path
        self._write({"lambdascope_recording": SCHEMA, "t": now, "target": target})

    def _write(self, obj: dict) -> None:
        if self._fh is not None:
            # Masked: a load target's 4xx body or a log line may quote a credential.
            self._fh.write(mask(json.dumps(obj, separators=(",", ":"))) + "\n")
            self._fh.flush()

    def log_events(self, events: list[LogEvent], now: float, source: str = "logs") -> None:
        self._write({"t": now, "source": source,
                     "log": [[e.stream, e.timestamp, e.message, e.event_id, e.ingestion_time] for e in events]})

    def outcomes(self, outcomes: list, stats, now: float) -> None:
        if is_dataclass(stats):
            stats = asdict(stats)
        self._write({"t": now, "outcomes": [{k: getattr(o, k, None) for k in OUTCOME_FIELDS} for o in outcomes],
                     "stats": stats})

    def load(self, state: dict, now: float) -> None:
        self._write({"t": now, "load": state})

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class Recording:
    header: dict
    entries: list[dict]

    @property
    def start(self) -> float:
        return self.header.get("t", self.entries[0]["t"] if self.entries else 0.0)

    @property
    def end(self) -> float:
        return max([self.start] + [e["t"] for e in self.entries])

    @classmethod
    def load(cls, path: str) -> "Recording":
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            raise UserError(f"{path}: no such file; record one with 'lambdascope watch --record FILE'") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
        entries, header = [], None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                raise UserError(f"{path}:{n}: not JSON; is this a 'watch --record' file?") from None
            if not isinstance(obj, dict) or "t" not in obj:
                raise UserError(f"{path}:{n}: not a recording line; is this a 'watch --record' file?")
            if "lambdascope_recording" in obj:
                header = obj
            else:
                entries.append(obj)
        if header is None:
            raise UserError(f"{path}: no recording header; record with 'lambdascope watch --record FILE'")
        entries.sort(key=lambda e: e["t"])
        return cls(header, entries)


class ReplayClock:
    """Recorded time: from the recording's start, `speed` times faster, held at its end.

    With speed None ("all at once") it reads the time of the batch being delivered, so each
    batch is applied at its recorded time however fast it is played.
    """

    def __init__(self, start: float, end: float, speed: float | None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.start, self.end, self.speed = start, end, speed
        self.cursor = start
        self._mono = monotonic
        self._t0 = monotonic()

    def __call__(self) -> float:
        if self.speed is None:
            return self.cursor
        return min(self.end, self.start + (self._mono() - self._t0) * self.speed)

    def wait_for(self, t: float) -> float:
        """Real seconds until recorded time `t`."""
        if self.speed is None:
            return 0.0
        return max(0.0, (t - self()) / self.speed)


class _Schedule:
    """All recorded batches in order. Played all at once, the replayers take turns, so batches
    of different channels are delivered in their recorded order."""

    def __init__(self, entries: list[dict], clock: ReplayClock):
        self.entries = entries
        self.clock = clock
        self.turn = 0
        self.closed = False
        self._cond = asyncio.Condition()

    async def play(self, belongs):
        instant = self.clock.speed is None
        for i, entry in enumerate(self.entries):
            if not belongs(entry):
                continue
            if instant:
                async with self._cond:
                    await self._cond.wait_for(lambda: self.turn == i or self.closed)
            else:
                # Short naps, each time asking the clock again: it may be paused, sped up, faked.
                while not self.closed and (wait := self.clock.wait_for(entry["t"])) > 0:
                    await self._sleep(min(wait, 0.2))
            if self.closed:
                return
            if instant:
                self.clock.cursor = entry["t"]
            yield entry
            if instant:
                async with self._cond:
                    self.turn = i + 1
                    self._cond.notify_all()
        if instant:
            # A replayer with no entries left must not hold up the others' turns.
            async with self._cond:
                self._cond.notify_all()

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(lambda: self.closed), seconds)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        self.closed = True
        async with self._cond:
            self._cond.notify_all()


class ReplaySource:
    """The recorded log batches of one source, as a `LogSource`."""

    def __init__(self, name: str, schedule: _Schedule):
        self._schedule = schedule
        self._name = name
        self.status = SourceStatus(name=f"replay:{name}")

    async def batches(self):
        async for entry in self._schedule.play(lambda e: "log" in e and e.get("source", "logs") == self._name):
            batch = [LogEvent(*row) for row in entry["log"]]
            self.status.events += len(batch)
            if batch:
                self.status.lag_ms = max(0.0, entry["t"] * 1000 - max(e.timestamp for e in batch))
            yield batch

    async def close(self) -> None:
        await self._schedule.close()


class ReplayLoad:
    """The recorded outcomes and load changes, as a load controller that cannot be steered."""

    def __init__(self, schedule: _Schedule):
        self._schedule = schedule
        self.calls: list[tuple] = []

    async def batches(self):
        async for entry in self._schedule.play(lambda e: "outcomes" in e or "load" in e):
            if "load" in entry:
                yield LoadItem([], None, entry["load"])
            else:
                yield LoadItem([RecordedOutcome(**o) for o in entry["outcomes"]], entry.get("stats"))

    def set_level(self, level):
        self.calls.append(("set_level", level))

    def set_mode(self, mode, level):
        self.calls.append(("set_mode", mode, level))

    def pause(self):
        self.calls.append(("pause",))

    def resume(self):
        self.calls.append(("resume",))

    async def stop(self):
        await self._schedule.close()


@dataclass
class Replay:
    """Everything `MonitorApp` takes, for one recording."""

    target: TargetInfo
    load_state: LoadState
    sources: list
    load: ReplayLoad | None
    clock: ReplayClock


def open_replay(path: str, speed: float | None = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> Replay:
    """Sources, load stand-in, clock and target for `MonitorApp`, from a recording file."""
    rec = Recording.load(path)
    clock = ReplayClock(rec.start, rec.end, speed, monotonic)
    schedule = _Schedule([e for e in rec.entries if "log" in e or "outcomes" in e or "load" in e], clock)
    names = list(dict.fromkeys(e.get("source", "logs") for e in schedule.entries if "log" in e))
    target = rec.header.get("target") or {}
    note = "all at once" if speed is None else f"×{speed:g}"
    label = target.get("label") or target.get("name") or "?"
    if target.get("local_profile"):
        label += f" · profile {target['local_profile']}"
    info = TargetInfo(kind="replay", name=os.path.basename(path), note=f"{label} · {note}",
                      simulated_hosts=bool(target.get("simulated_hosts")))
    first = next((e["load"] for e in schedule.entries if "load" in e), {})
    state = LoadState(controllable=False)
    if first.get("mode") in ("closed", "open"):
        state.apply(first)
    has_load = any("outcomes" in e or "load" in e for e in schedule.entries)
    return Replay(info, state, [ReplaySource(n, schedule) for n in names],
                  ReplayLoad(schedule) if has_load else None, clock)
