"""The fleet model: containers, hosts and cohorts, built from parsed records and responses.

Pure: no IO, no clock of its own (every call that needs the time takes `now`, epoch seconds).
One writer (the app, or `run`) feeds it batches; readers take a `Diff` of what changed since
the last look, so a widget updates changed rows only, at its own refresh rate.

Two channels report each invocation (DESIGN.md): the response body, at once, and the log
stream, seconds later. Both carry Lambda's request id; an invocation is counted once, when
either channel first reports it, and is "confirmed" when the logs report it.
"""

from collections import OrderedDict
from dataclasses import dataclass, field

from tui import lambdalog as L
from tui.timeline import Timeline

HOST_KEYS = ("hostname", "boot_id", "cpu_model")

# Flags kept per request id while both channels may still report it.
_SEEN_RESPONSE = 1
_SEEN_LOG = 2
_COLD_COUNTED = 4
_REPORTED = 8


class Container:
    """One execution environment = one log stream."""

    __slots__ = (
        "container_id", "invocations", "confirmed", "probe_colds", "init_starts",
        "init_durations", "init_duration_ms", "restore_duration_ms", "hostname", "boot_id",
        "cpu_model", "cpu_mhz", "bogomips", "first_seen", "last_seen", "cohort", "in_flight",
        "errors", "timeouts", "crashes", "max_memory_mb", "timeline", "cold_at",
        "duration_sum_ms", "reports", "order",
    )

    def __init__(self, container_id: str, first_seen: float, cohort: int, order: int, buckets: int, width: float):
        self.container_id = container_id
        self.invocations = 0
        self.confirmed = 0  # invocations the logs have reported
        self.probe_colds = 0
        self.init_starts = 0
        self.init_durations = 0
        self.init_duration_ms: float | None = None
        self.restore_duration_ms: float | None = None
        self.hostname = ""
        self.boot_id = ""
        self.cpu_model = ""
        self.cpu_mhz = 0.0
        self.bogomips = 0.0
        self.first_seen = first_seen
        self.last_seen = first_seen
        self.cohort = cohort
        self.order = order  # position by first request, stable
        self.in_flight: set[str] = set()  # START seen, REPORT not yet
        self.errors = 0
        self.timeouts = 0
        self.crashes = 0
        self.max_memory_mb: float | None = None
        self.timeline = Timeline(buckets, width)
        self.cold_at: float | None = None
        self.duration_sum_ms = 0.0
        self.reports = 0

    @property
    def cold_starts(self) -> int:
        """The strongest cold-start evidence seen (AWS-FACTS.md §3.5)."""
        return max(self.init_starts, self.init_durations, self.probe_colds)

    @property
    def cold_signals_disagree(self) -> bool:
        seen = [n for n in (self.init_starts, self.init_durations, self.probe_colds) if n]
        return len(set(seen)) > 1

    @property
    def unconfirmed(self) -> int:
        return self.invocations - self.confirmed

    def host_key(self, which: str) -> str:
        return getattr(self, which) or "?"

    def state(self, now: float, idle_after: float, gone_after: float) -> str:
        if self.in_flight and now - self.last_seen < gone_after:
            return "busy"
        quiet = now - self.last_seen
        if quiet >= gone_after:
            return "gone"
        return "busy" if quiet < idle_after else "idle"


@dataclass(slots=True)
class Diff:
    """What changed since the last `take_diff`: container ids, in first-seen order for `added`."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Counters:
    requests: int = 0  # responses received (any status)
    invocations: int = 0
    errors: int = 0  # failed requests (load generator) + function errors (logs)
    throttled: int = 0
    app_lines: int = 0
    malformed: int = 0  # log lines that looked like ours but could not be read
    malformed_responses: int = 0  # response bodies whose probe record could not be read
    unknown_stream_lines: int = 0
    evicted_ids: int = 0  # request ids forgotten before both channels reported them
    log_lag_s: float | None = None  # last measured response → log confirmation lag
    log_lag_max_s: float = 0.0


class Fleet:
    """All containers of one function, fed by records (logs) and outcomes (responses)."""

    def __init__(self, *, cohort_gap_s: float = 2.0, idle_after_s: float = 2.0,
                 gone_after_s: float = 600.0, timeline_buckets: int = 600,
                 bucket_s: float = 1.0, max_tracked_ids: int = 200_000,
                 max_containers: int = 20_000):
        self.containers: dict[str, Container] = {}
        self.counters = Counters()
        self.cohort_gap_s = cohort_gap_s
        self.idle_after_s = idle_after_s
        self.gone_after_s = gone_after_s
        self.timeline_buckets = timeline_buckets
        self.bucket_s = bucket_s
        self.max_containers = max_containers
        # request id → (flags, response arrival time): bounded, oldest forgotten first.
        self._ids: OrderedDict[str, list] = OrderedDict()
        self._max_ids = max_tracked_ids
        self._cohort = 0
        self._order_seq = 0
        self._cohort_last_first_seen: float | None = None
        self._added: list[str] = []
        self._changed: set[str] = set()
        self._removed: list[str] = []
        self.started_at: float | None = None

    # ---- feeding ------------------------------------------------------------------------
    def apply_records(self, records: list[L.Record], now: float) -> None:
        """Apply a batch of parsed log records (any order, any streams)."""
        for rec in records:
            kind = rec.kind
            if kind == L.APP:
                self.counters.app_lines += 1
                continue
            if kind == L.MALFORMED:
                self.counters.malformed += 1
                continue
            c = self._container(rec.stream, rec.timestamp / 1000.0)
            t = rec.timestamp / 1000.0
            if kind == L.PROBE:
                self._identity(c, rec.data)
                if rec.request_id:
                    self._invocation(c, rec.request_id, t, now, from_log=True,
                                     cold=rec.data.get("cold") is True)
            elif kind == L.REPORT:
                self._report(c, rec, t, now)
            elif kind == L.START:
                if rec.request_id:
                    c.in_flight.add(rec.request_id)
                self._touch(c, t)
            elif kind == L.INIT_START or kind == L.RESTORE_START:
                c.init_starts += 1
                self._touch(c, t)
            elif kind == L.TIMEOUT:
                c.timeouts += 1
                c.errors += 1
                self.counters.errors += 1
                if rec.request_id:
                    c.in_flight.discard(rec.request_id)
            elif kind == L.CRASH:
                c.crashes += 1
                c.errors += 1
                self.counters.errors += 1
            self._changed.add(c.container_id)

    def apply_outcomes(self, outcomes, now: float) -> None:
        """Apply a batch of load-generator outcomes (objects with status, error,
        container_id, request_id, cold, record, sent_at, latency_ms)."""
        counters = self.counters
        for o in outcomes:
            counters.requests += 1
            if o.error == "throttled":
                counters.throttled += 1
                continue
            if o.error is not None:
                counters.errors += 1
                continue
            if not o.container_id or not o.request_id:
                continue  # a response without the probe record: nothing to attribute
            # The response body is the function's output: validated like a log line.
            record = L.probe_fields(o.record) if o.record is not None else {}
            if record is None or not L.is_stream(o.container_id) or not L.is_id(o.request_id):
                counters.malformed_responses += 1
                continue
            t = o.sent_at + (o.latency_ms or 0.0) / 1000.0
            c = self._container(o.container_id, t)
            if record:
                self._identity(c, record)
            self._invocation(c, o.request_id, t, now, from_log=False, cold=o.cold is True)
            self._changed.add(c.container_id)

    def forget(self, container_id: str) -> None:
        """Drop a container (the user asked, or the model holds too many)."""
        if self.containers.pop(container_id, None) is not None:
            self._removed.append(container_id)
            self._changed.discard(container_id)

    # ---- reading ------------------------------------------------------------------------
    def take_diff(self) -> Diff:
        added = [cid for cid in self._added if cid in self.containers]
        added_set = set(added)
        changed = [cid for cid in self._changed if cid in self.containers and cid not in added_set]
        diff = Diff(added, changed, self._removed)
        self._added, self._changed, self._removed = [], set(), []
        return diff

    def state(self, c: Container, now: float) -> str:
        return c.state(now, self.idle_after_s, self.gone_after_s)

    def hosts(self, host_key: str) -> dict[str, int]:
        """Container count per host, in order of each host's first container."""
        counts: dict[str, int] = {}
        for c in self.ordered():
            key = c.host_key(host_key)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def ordered(self, sort: str = "first") -> list[Container]:
        cs = self.containers.values()
        if sort == "invocations":
            return sorted(cs, key=lambda c: (-c.invocations, c.order))
        if sort in HOST_KEYS or sort == "host":
            key = "hostname" if sort == "host" else sort
            return sorted(cs, key=lambda c: (c.host_key(key), c.order))
        return sorted(cs, key=lambda c: c.order)

    @property
    def cold_starts(self) -> int:
        return sum(c.cold_starts for c in self.containers.values())

    # ---- internals ----------------------------------------------------------------------
    def _container(self, cid: str, t: float) -> Container:
        c = self.containers.get(cid)
        if c is not None:
            return c
        if self.started_at is None:
            self.started_at = t
        last = self._cohort_last_first_seen
        if last is not None and t - last > self.cohort_gap_s:
            self._cohort += 1
        self._cohort_last_first_seen = t if last is None else max(last, t)
        c = Container(cid, t, self._cohort, self._order_seq, self.timeline_buckets, self.bucket_s)
        self._order_seq += 1
        self.containers[cid] = c
        self._added.append(cid)
        if len(self.containers) > self.max_containers:
            self._evict_oldest_gone()
        return c

    def _evict_oldest_gone(self) -> None:
        oldest = min(self.containers.values(), key=lambda c: c.last_seen)
        self.forget(oldest.container_id)

    def _identity(self, c: Container, rec: dict) -> None:
        if not c.hostname:
            c.hostname = rec.get("hostname") or ""
            c.boot_id = rec.get("boot_id") or ""
            c.cpu_model = rec.get("cpu_model") or ""
            c.cpu_mhz = rec.get("cpu_mhz") or 0.0
            c.bogomips = rec.get("bogomips") or 0.0

    def _touch(self, c: Container, t: float) -> None:
        if t > c.last_seen:
            c.last_seen = t
        if t < c.first_seen:
            c.first_seen = t

    def _invocation(self, c: Container, rid: str, t: float, now: float, *, from_log: bool, cold: bool) -> list:
        """Count `rid` once across both channels; note confirmation and the lag between them."""
        entry = self._ids.get(rid)
        if entry is None:
            entry = [0, None]
            self._ids[rid] = entry
            if len(self._ids) > self._max_ids:
                _, old = self._ids.popitem(last=False)
                if old[0] & (_SEEN_RESPONSE | _SEEN_LOG) != (_SEEN_RESPONSE | _SEEN_LOG):
                    self.counters.evicted_ids += 1
            c.invocations += 1
            self.counters.invocations += 1
            c.timeline.add(t)
        flags = entry[0]
        if from_log and not flags & _SEEN_LOG:
            flags |= _SEEN_LOG
            c.confirmed += 1
            if flags & _SEEN_RESPONSE and entry[1] is not None:
                lag = max(0.0, now - entry[1])
                self.counters.log_lag_s = lag
                self.counters.log_lag_max_s = max(self.counters.log_lag_max_s, lag)
        elif not from_log and not flags & _SEEN_RESPONSE:
            flags |= _SEEN_RESPONSE
            entry[1] = now
        if cold and not flags & _COLD_COUNTED:
            flags |= _COLD_COUNTED
            c.probe_colds += 1
            c.cold_at = t if c.cold_at is None else min(c.cold_at, t)
        entry[0] = flags
        self._touch(c, t)
        return entry

    def _report(self, c: Container, rec: L.Record, t: float, now: float) -> None:
        rid = rec.request_id
        c.in_flight.discard(rid)
        # Functions without the probe: REPORT is the invocation. With the probe, the same id
        # was (or will be) counted from the probe line; the id table keeps it to one.
        entry = self._invocation(c, rid, t, now, from_log=True, cold=False)
        if entry[0] & _REPORTED:
            return  # the same REPORT delivered twice (a retried poll, a reconnect)
        entry[0] |= _REPORTED
        m = rec.data or {}
        c.reports += 1
        c.duration_sum_ms += m.get("duration_ms", 0.0)
        if "max_memory_mb" in m:
            c.max_memory_mb = max(c.max_memory_mb or 0.0, m["max_memory_mb"])
        init = m.get("init_duration_ms", m.get("restore_duration_ms"))
        if init is not None:
            c.init_durations += 1
            if "init_duration_ms" in m:
                c.init_duration_ms = m["init_duration_ms"]
            else:
                c.restore_duration_ms = m["restore_duration_ms"]
            c.cold_at = t if c.cold_at is None else min(c.cold_at, t)
        status = m.get("status")
        if status is not None and status != "success":
            c.errors += 1
