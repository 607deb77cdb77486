"""Record a session's two channels to a compressed file, and play one back into the monitor.

Format 2: gzip (stdlib) over JSON lines, one line per batch as the app received it:
    {"lambdascope_recording": 2, "t": …, "target": {…}, "outcome_fields": [...]}   first line
    {"t": …, "source": "poll", "names": [new names], "log": [[name_index, ts_ms, message], …]}
    {"t": …, "names": [new names], "outcomes": [[value per outcome field], …], "stats": {…}}
`t` is the monitor's clock when the batch arrived. Nothing is stored twice: stream names (which
are the container ids) are written once and referred to by index; outcomes keep only the fields
the monitor reads (not the client's own ids or schedule); log events keep what the parser reads
(not FilterLogEvents' event ids); the plan rides in the generator's stats snapshot
(`StatsSnapshot.to_dict`), so there are no separate load lines. The file is flushed at least
once a second, so a session that is killed mid-way still replays up to then. The probe record
inside an outcome never holds environment variables (the probe does not print them), and every
line is masked, so a recording holds no credential.

Format 1 (uncompressed JSONL, before December 2026) is still read. Reading, streamed and capped, is
tui/output/recorded.py.

Playback: `open_replay` gives what `MonitorApp` takes (sources, a load stand-in, a clock) with
the batches arriving at their recorded times, `speed` times faster; speed=None plays all at once.
"""

import asyncio
import gzip
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from loadgen.plan import Plan
from loadgen.stats import StatsSnapshot
from tui.core.errors import UserError, mask
from tui.core.events import LogEvent, SourceStatus
from tui.core.load import LoadItem, LoadRefused, LoadState
from tui.core.target_info import TargetInfo

# The reading side lives in tui/output/recorded.py; its names are re-exported here, where the
# format is described.
from tui.output.recorded import (  # noqa: F401
    _CONTAINER,
    OUTCOME_FIELDS,
    SCHEMA,
    RecordedOutcome,
    Recording,
    recording_text,
)

FLUSH_S = 1.0


class Recorder:
    """Appends batches to a gzip-compressed recording; `close` finishes it. Opened by
    `watch --record FILE`."""

    def __init__(self, path: str, target: dict, now: float, *, monotonic: Callable[[], float] = time.monotonic):
        try:
            self._raw = open(path, "wb")
        except OSError as exc:
            raise UserError(
                f"cannot write the recording {path}: {exc.strerror or exc}; choose another --record"
            ) from None
        self.path = path
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self._names: dict[str, int] = {}
        self._mono = monotonic
        self._flushed = monotonic()
        self._write({"lambdascope_recording": SCHEMA, "t": now, "target": target, "outcome_fields": OUTCOME_FIELDS})
        self._flush()

    @property
    def size(self) -> int:
        """Bytes on disk so far."""
        return self._raw.tell() if self._gz is not None else os.path.getsize(self.path)

    def _name(self, name: str | None, new: list) -> int | None:
        if name is None:
            return None
        index = self._names.get(name)
        if index is None:
            index = self._names[name] = len(self._names)
            new.append(name)
        return index

    def _write(self, obj: dict) -> None:
        if self._gz is None:
            return
        # Masked: a load target's 4xx body or a log line may quote a credential.
        self._gz.write((mask(json.dumps(obj, separators=(",", ":"))) + "\n").encode("utf-8"))
        if self._mono() - self._flushed >= FLUSH_S:
            self._flush()

    def _flush(self) -> None:
        self._gz.flush()  # a sync flush: everything so far decompresses
        self._raw.flush()
        self._flushed = self._mono()

    def log_events(self, events: list[LogEvent], now: float, source: str = "logs") -> None:
        new: list[str] = []
        rows = [[self._name(e.stream, new), e.timestamp, e.message] for e in events]
        self._write(
            {"t": now, "source": source, "names": new, "log": rows}
            if new
            else {"t": now, "source": source, "log": rows}
        )

    def outcomes(self, outcomes: list, stats: StatsSnapshot | None, now: float) -> None:
        new: list[str] = []
        rows = []
        for o in outcomes:
            row = [getattr(o, k, None) for k in OUTCOME_FIELDS]
            row[_CONTAINER] = self._name(row[_CONTAINER], new)
            rows.append(row)
        obj = {"t": now, "outcomes": rows, "stats": stats.to_dict() if stats is not None else None}
        if new:
            obj["names"] = new
        self._write(obj)

    def plan(self, doc: dict, now: float) -> None:
        """The ramp plan as it ran (`Steering.to_dict`): `--plan` on the recording repeats it."""
        self._write({"t": now, "plan": doc})

    def close(self) -> None:
        if self._gz is not None:
            self._gz.close()
            self._raw.close()
            self._gz = None


class ReplayClock:
    """Recorded time: from the recording's start, `speed` times faster, held at its end; it can
    be paused and moved (the replay's space and ← →).

    With speed None ("all at once") it reads the time of the batch being delivered, so each
    batch is applied at its recorded time however fast it is played.
    """

    def __init__(self, start: float, end: float, speed: float | None, monotonic: Callable[[], float] = time.monotonic):
        self.start, self.end, self.speed = start, end, speed
        self.cursor = start
        self.paused = False
        self._mono = monotonic
        self._base = start  # recorded time at real time _t0
        self._t0 = monotonic()

    def __call__(self) -> float:
        if self.speed is None:
            return self.cursor
        if self.paused:
            return self._base
        return min(self.end, self._base + (self._mono() - self._t0) * self.speed)

    def wait_for(self, t: float) -> float:
        """Real seconds until recorded time `t` (a nap's worth while paused)."""
        if self.speed is None:
            return 0.0
        if self.paused:
            return 0.2 if t > self._base else 0.0
        return max(0.0, (t - self()) / self.speed)

    @property
    def at_end(self) -> bool:
        return self() >= self.end

    def pause(self) -> None:
        if not self.paused:
            self._base = self()
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            self._t0 = self._mono()
            self.paused = False

    def seek(self, t: float) -> float:
        """Move to recorded time `t` (within the recording); returns where it landed."""
        self._base = min(self.end, max(self.start, t))
        self._t0 = self._mono()
        return self._base


def fmt_clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def replay_position(clock: ReplayClock) -> str:
    """'▶ 0:45 / 2:22 ×10', '⏸ 0:45 / 2:22', '■ end of recording 2:22' for the header."""
    total = clock.end - clock.start
    if clock.at_end:
        return f"■ end of recording {fmt_clock(total)}"
    if clock.speed is None:
        return "all at once"
    here = fmt_clock(clock() - clock.start)
    if clock.paused:
        return f"⏸ {here} / {fmt_clock(total)} (space plays)"
    return f"▶ {here} / {fmt_clock(total)} ×{clock.speed:g}"


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
                # asyncio.timeout, not wait_for, which on 3.11 can swallow a cancel at the deadline
                async with asyncio.timeout(seconds):
                    await self._cond.wait_for(lambda: self.closed)
            except TimeoutError:
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
            batch = entry["log"]
            self.status.events += len(batch)
            if batch:
                self.status.lag_ms = max(0.0, entry["t"] * 1000 - max(e.timestamp for e in batch))
            yield batch

    async def close(self) -> None:
        await self._schedule.close()


class ReplayLoad:
    """The recorded outcomes and the generator's snapshots, as a load controller that cannot be
    steered."""

    def __init__(self, schedule: _Schedule):
        self._schedule = schedule

    async def batches(self):
        async for entry in self._schedule.play(lambda e: "outcomes" in e):
            yield LoadItem(entry["outcomes"], entry["stats"])

    def apply(self, plan: Plan) -> None:
        raise LoadRefused("a replay cannot be steered")

    async def stop(self) -> None:
        await self._schedule.close()


@dataclass
class Replay:
    """Everything `MonitorApp` takes, for one recording; `restart` plays it again from its
    start on the same clock (a seek back: the model is rebuilt up to the clock's time)."""

    target: TargetInfo
    load_state: LoadState
    sources: list
    load: ReplayLoad | None
    clock: ReplayClock
    recording: Recording | None = None

    def restart(self) -> tuple[list, "ReplayLoad | None"]:
        """New sources and load over the whole recording; batches up to the clock's time come
        at once, the rest at their times."""
        self.sources, self.load = _players(self.recording, self.clock)
        return self.sources, self.load


def _players(rec: Recording, clock: ReplayClock) -> tuple[list, "ReplayLoad | None"]:
    schedule = _Schedule(rec.entries, clock)
    names = list(dict.fromkeys(e.get("source", "logs") for e in schedule.entries if "log" in e))
    has_load = any("outcomes" in e for e in schedule.entries)
    return [ReplaySource(n, schedule) for n in names], (ReplayLoad(schedule) if has_load else None)


def open_replay(path: str, speed: float | None = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> Replay:
    """Sources, load stand-in, clock and target for `MonitorApp`, from a recording file."""
    rec = Recording.load(path)
    clock = ReplayClock(rec.start, rec.end, speed, monotonic)
    target = rec.header.get("target") or {}
    note = "all at once" if speed is None else f"×{speed:g}"
    label = target.get("label") or target.get("name") or "?"
    if target.get("local_profile"):
        label += f" · profile {target['local_profile']}"
    info = TargetInfo(
        kind="replay",
        name=os.path.basename(path),
        note=f"{label} · {note}",
        simulated_hosts=bool(target.get("simulated_hosts")),
    )
    first = next(
        (
            e["stats"].plan
            for e in rec.entries
            if "outcomes" in e and e["stats"] is not None and e["stats"].plan is not None
        ),
        None,
    )
    state = LoadState(wanted=first or Plan(), controllable=False)
    sources, load = _players(rec, clock)
    return Replay(info, state, sources, load, clock, rec)
