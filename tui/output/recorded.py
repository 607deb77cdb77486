"""A recording read back (`Recording.load`): the format `tui/output/recording.py` describes and
its Recorder writes, format 1 included, streamed and capped by tui/output/capped.py.

Every line is checked as it is read: a line over caps.RECORDING_LINE, a gzip bomb, more than
caps.STREAMS stream names, or a damaged line (wrong types where the model expects numbers or
text) is one line naming the file and line, never a traceback later in the model.
"""

import json
import math
from dataclasses import dataclass, replace

from loadgen.plan import MODES, Plan, PlanError
from loadgen.stats import StatsSnapshot
from tui.core import caps
from tui.core.errors import UserError
from tui.core.events import LogEvent
from tui.output import capped

SCHEMA = 2


@dataclass(slots=True)
class RecordedOutcome:
    """An outcome as replayed: every field the fleet model and the header read (the others of
    `loadgen.outcome.Outcome` keep their defaults)."""

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


# What a recording keeps of an outcome, in row order; container_id is a name index.
OUTCOME_FIELDS = [
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
_CONTAINER = OUTCOME_FIELDS.index("container_id")


@dataclass
class Recording:
    """A recording read back: entries are {"t", "source", "log": [LogEvent]} or
    {"t", "outcomes": [RecordedOutcome], "stats": StatsSnapshot | None}, in time order."""

    header: dict
    entries: list[dict]
    plan: dict | None = None  # the ramp plan as it ran, when the session had one (--plan)

    @property
    def start(self) -> float:
        return self.header.get("t", self.entries[0]["t"] if self.entries else 0.0)

    @property
    def end(self) -> float:
        return max([self.start] + [e["t"] for e in self.entries])

    @classmethod
    def load(cls, path: str) -> "Recording":
        """Read a recording, streamed and capped (tui/output/capped.py): a line over
        caps.RECORDING_LINE, a gzip bomb or more than caps.STREAMS stream names is a one-line
        error as soon as it shows, holding no more than the cap."""
        entries, header, plan = [], None, None
        names: list[str] = []
        last_stats: StatsSnapshot | None = None
        broken: int | None = None  # a line that was not JSON: fatal unless it is the last
        for n, line in enumerate(_lines(path), 1):
            if not line.strip():
                continue
            if broken is not None:
                raise UserError(f"{path}:{broken}: not JSON; is this a 'watch --record' file?")
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                if header is None:
                    raise UserError(f"{path}:{n}: not JSON; is this a 'watch --record' file?") from None
                broken = n  # the last line of a session killed mid-write, if nothing follows
                continue
            if not isinstance(obj, dict) or "t" not in obj:
                raise UserError(f"{path}:{n}: not a recording line; is this a 'watch --record' file?")
            if "lambdascope_recording" in obj:
                header = obj
                continue
            if header is None:
                break
            if isinstance(obj.get("plan"), dict):
                plan = obj["plan"]  # the last one written is the whole plan as it ran
                continue
            try:
                entry = _entry_v2(obj, names) if header["lambdascope_recording"] >= 2 else _entry_v1(obj, last_stats)
            except (TypeError, ValueError, IndexError, KeyError, AttributeError):
                raise UserError(f"{path}:{n}: a damaged recording line; record the session again") from None
            if len(names) > caps.STREAMS:
                raise UserError(
                    f"{path}:{n}: more than {caps.STREAMS:,} log streams (the most lambdascope keeps); "
                    "record a shorter session"
                )
            if entry is not None:
                if "outcomes" in entry and entry["stats"] is not None:
                    last_stats = entry["stats"]
                entries.append(entry)
        if header is None:
            raise UserError(f"{path}: no recording header; record with 'lambdascope watch --record FILE'")
        if not isinstance(header["lambdascope_recording"], int) or header["lambdascope_recording"] > SCHEMA:
            raise UserError(
                f"{path}: recorded by a newer lambdascope (format {header['lambdascope_recording']!r:.20}); "
                "upgrade lambdascope to replay it"
            )
        if not all(_is_time(e["t"]) for e in entries) or not _is_time(header.get("t", 0)):
            raise UserError(
                f"{path}: a recording line whose time is not a number from 1970 to 9999; record the session again"
            )
        entries.sort(key=lambda e: e["t"])
        return cls(header, entries, plan)


def _is_time(t, scale: int = 1) -> bool:
    """A time a recording may hold: a number from the epoch to year 9999 (`scale` 1000: in ms)."""
    return isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= caps.LATEST_S * scale


def recording_text(path: str) -> str:
    """A recording's JSON lines as text, decompressed (for a look inside, or a scan)."""
    return "\n".join(_lines(path))


_FIX = "record one with 'lambdascope watch --record FILE'"


def _lines(path: str):
    return capped.lines(path, max_line=caps.RECORDING_LINE, what="a recording line", fix=_FIX)


def _entry_v2(obj: dict, names: list[str]) -> dict | None:
    new = obj.get("names", [])
    if not isinstance(new, list) or not all(isinstance(n, str) for n in new):
        raise TypeError("names")
    names.extend(new)
    if "log" in obj:
        return {
            "t": obj["t"],
            "source": str(obj.get("source", "logs")),
            "log": [_log_event(names[i], ts, message) for i, ts, message in obj["log"]],
        }
    if "outcomes" in obj:
        outcomes = []
        for row in obj["outcomes"]:
            values = dict(zip(OUTCOME_FIELDS, row))
            if values["container_id"] is not None:
                values["container_id"] = names[values["container_id"]]
            outcomes.append(_outcome(values))
        stats = obj.get("stats")
        return {
            "t": obj["t"],
            "outcomes": outcomes,
            "stats": StatsSnapshot.from_dict(stats) if stats is not None else None,
        }
    return None


_NUMBER = (int, float)
# The type each recorded outcome field must have (None allowed but for sent_at): what the model
# does arithmetic on must be a number.
_OUTCOME_TYPES = {
    "seq": int,
    "client_request_id": str,
    "scheduled_at": _NUMBER,
    "latency_ms": _NUMBER,
    "status": int,
    "error": str,
    "container_id": str,
    "request_id": str,
    "cold": bool,
    "record": dict,
    "detail": str,
    "init_duration_ms": _NUMBER,
}


def _outcome(values: dict) -> RecordedOutcome:
    """One recorded outcome, or TypeError for a damaged one (the caller says which line)."""
    if not _is_time(values.get("sent_at")):
        raise TypeError("sent_at")
    for key, value in values.items():
        if key != "sent_at" and value is not None:
            kind = _OUTCOME_TYPES[key]  # KeyError: a field no outcome has
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise TypeError(key)
            if kind is _NUMBER and not math.isfinite(value):
                raise TypeError(key)
    return RecordedOutcome(**values)


def _log_event(stream, ts, message, event_id=None, ingestion_time=None) -> LogEvent:
    """One recorded log event, or TypeError for a damaged one (the caller says which line)."""
    if not (isinstance(stream, str) and isinstance(message, str) and _is_time(ts, 1000)):
        raise TypeError("log event")
    if ingestion_time is not None and not _is_time(ingestion_time, 1000):
        raise TypeError("ingestion time")
    return LogEvent(stream, ts, message, None if event_id is None else str(event_id), ingestion_time)


def _entry_v1(obj: dict, last_stats: StatsSnapshot | None) -> dict | None:
    """Format 1: dict outcomes, stats without a plan, separate load lines (a load line becomes the
    last stats with that plan, as the load process would have echoed it)."""
    if "log" in obj:
        log = [_log_event(*row) for row in obj["log"]]
        return {"t": obj["t"], "source": str(obj.get("source", "logs")), "log": log}
    if "outcomes" in obj:
        stats = obj.get("stats")
        snapshot = None
        if stats:
            snapshot = StatsSnapshot.from_dict({k: v for k, v in stats.items() if k != "plan"})
            if stats.get("rate") is not None and not stats.get("achieved_rps"):
                snapshot.achieved_rps = stats["rate"]
            snapshot.plan = _plan_v1(stats) or (last_stats.plan if last_stats else None)
        return {"t": obj["t"], "outcomes": [_outcome(o) for o in obj["outcomes"]], "stats": snapshot}
    if "load" in obj:
        plan = _plan_v1(obj["load"])
        if plan is None:
            return None
        base = last_stats if last_stats is not None else StatsSnapshot()
        return {"t": obj["t"], "outcomes": [], "stats": replace(base, plan=plan)}
    return None


def _plan_v1(values: dict) -> Plan | None:
    if values.get("mode") not in MODES:
        return None
    try:
        return Plan(
            mode=values["mode"],
            level=values["level"],
            paused=bool(values.get("paused")),
            max_in_flight=max(1000, int(values["level"])),
        )
    except (PlanError, KeyError, TypeError):
        return None
