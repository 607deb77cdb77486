"""The fleet: all containers of one function, built from parsed records and responses.

Pure: no IO, no clock of its own (every call that needs the time takes `now`, epoch seconds).
One writer (the app, or `run`) feeds it batches; readers take a `Diff` of what changed since
the last look, so a widget updates changed rows only, at its own refresh rate.

Two channels report each invocation (DESIGN.md): the response body, at once, and the log
stream, seconds later. Both carry Lambda's request id; an invocation is counted once, when
either channel first reports it, and is "confirmed" when the logs report it.

Arrival order does not matter (issue 8): FilterLogEvents and Live Tail promise none, so every
fact is kept as a min, a max, a count once per request id, or a flag, and what is inferred from
them (cold starts, states, order) is computed when read. START, probe, END and REPORT of one
request applied in any order give the same model.
"""

from collections import OrderedDict

from tui.core import lambdalog as L
from tui.core.fleet.container import MAX_IN_FLIGHT, Container, note_interval, remember
from tui.core.fleet.counters import Counters, Latency
from tui.core.fleet.instances import Instance, note_system
from tui.core.fleet.ledger import _CRASHED, _ENDED, _ERRORED, _REPORTED, _TIMED_OUT, Ledger
from tui.core.fleet.reads import FleetReads
from tui.core.fleet.responses import FleetResponses
from tui.core.start_queue import StartQueue
from tui.core.timeline import Clock, Timeline

# Record kinds, bound once (the feeding loop is the hot path of the whole tool).
_APP, _MALFORMED, _REPORT, _PROBE, _START, _END = L.APP, L.MALFORMED, L.REPORT, L.PROBE, L.START, L.END
_HOST = L.HOST
# What a serving container shows for its host when the function has no probe and its stream no
# extension line: said, not blank, so "no host facts" is not mistaken for "not read yet".
NO_EXTENSION = "no extension"
_INIT_START, _RESTORE_START, _TIMEOUT, _CRASH = L.INIT_START, L.RESTORE_START, L.TIMEOUT, L.CRASH
_INIT_REPORT, _RESTORE_REPORT, _LOGS_DROPPED = L.INIT_REPORT, L.RESTORE_REPORT, L.LOGS_DROPPED
_SYSTEM = L.SYSTEM
_NO_CONTAINER = frozenset({_APP, _MALFORMED, _SYSTEM, _LOGS_DROPPED})
_NO_RUN = object()  # no run of one stream's records yet (a record's stream is never this)


class Fleet(FleetResponses, FleetReads):
    """All containers of one function, fed by records (logs) and outcomes (responses)."""

    def __init__(
        self,
        *,
        cohort_gap_s: float = 2.0,
        idle_after_s: float = 2.0,
        gone_after_s: float = 600.0,
        timeline_buckets: int = 4096,
        bucket_s: float = 0.1,
        max_tracked_ids: int = 200_000,
        max_containers: int = 20_000,
    ):
        self.containers: dict[str, Container] = {}
        self.probe_seen = False  # a probe record arrived: the function is lambdascope's probe
        self.instances: OrderedDict[str, Instance] = OrderedDict()  # EC2 instance id → Instance
        self.counters = Counters()
        self.cohort_gap_s = cohort_gap_s
        self.idle_after_s = idle_after_s
        self.gone_after_s = gone_after_s
        self.max_containers = max_containers
        self.clock = Clock(bucket_s, timeline_buckets)
        self.activity = Timeline(self.clock)  # every invocation
        self.throttles = Timeline(self.clock)  # 429s from the response channel
        self.latency = Latency()
        # The lanes' column width until the widgets move to `counts` (zoom): 1 s per column.
        self.column_s = 1.0
        # Each request id counted once across both channels (bounded).
        self._ledger = Ledger(max_tracked_ids, self.counters, self.clock, self.activity)
        # SnapStart hides the stream name from the function, so the probe names its environment
        # by an id kept in /tmp (`container_id_from: "tmp"`), which is not the stream and may
        # even be shared (restored from one snapshot). The request id is what both channels
        # share: the probe's log line puts a request in its real stream. An answer whose stream
        # the logs have not given yet waits here (bounded), and counts the moment they do, so one
        # environment is one container.
        self._rid_stream: OrderedDict[str, str] = OrderedDict()  # request id -> stream (tmp ids only)
        self._unplaced: OrderedDict[str, tuple] = OrderedDict()  # request id -> (outcome, record, now)
        # Request ids the response channel said failed in the function (X-Amz-Function-Error)
        # whose REPORT has not come yet: its environment counts the error when it does
        # (bounded; text-format REPORT lines say nothing of a handler's exception).
        self._failed: OrderedDict[str, None] = OrderedDict()
        self._cohort = 0
        self._seq = 0
        self._cohort_last_first_seen: float | None = None
        self._added: list[str] = []
        self._changed: set[str] = set()
        self._removed: list[str] = []
        self.started_at: float | None = None  # the first time seen (deprecated: use origin)
        # A finished log read after the fact (`analyze`): states are as of the data's end, where
        # nothing is still running.
        self.data_ended = False
        # This machine's start queue, when the target is the local Lambda (tui/core/start_queue.py):
        # its callers read it from the local Lambda and set it here; the findings say it.
        self.start_queue: StartQueue | None = None

    # ---- the whole-run timeline ---------------------------------------------------------
    @property
    def bucket_s(self) -> float:
        return self.clock.bucket_s

    @property
    def timeline_buckets(self) -> int:
        return self.clock.size

    @timeline_buckets.setter
    def timeline_buckets(self, n: int) -> None:
        self.clock.size = max(2, int(n))
        self._fit()

    @property
    def origin(self) -> float | None:
        """Epoch seconds of bucket 0: the earliest time seen less 1 s, floored to the bucket
        width (it moves earlier when an earlier line arrives, and floors at each doubling)."""
        return None if self.clock.origin is None else self.bucket_start(0)

    @property
    def bucket_count(self) -> int:
        c = self.clock
        return 0 if c.origin is None else c.latest - c.origin + 1

    def bucket_of(self, t: float) -> int:
        c = self.clock
        return c.absolute(t) - (c.origin or 0)

    def bucket_start(self, i: int) -> float:
        c = self.clock
        return (((c.origin or 0) + i) << c.shift) * c.base_ms / 1000.0

    def _see_ms(self, ms: int) -> int:
        """Note a time (epoch ms) on the clock; its absolute bucket, after any doubling."""
        c = self.clock
        a = (ms // c.base_ms) >> c.shift
        lo = ((ms - 1000) // c.base_ms) >> c.shift  # 1 s of slack before the earliest line
        if c.origin is None:
            c.origin, c.latest = lo, a
            return a
        if a > c.latest:
            c.latest = a
        elif lo < c.origin:
            c.origin = lo
        else:
            return a
        if c.latest - c.origin >= c.size:
            self._fit()
            return (ms // c.base_ms) >> c.shift
        return a

    def _fit(self) -> None:
        c = self.clock
        if c.origin is None:
            return
        while c.latest - c.origin >= c.size:
            c.shift += 1
            c.origin >>= 1
            c.latest >>= 1
            for cont in self.containers.values():
                cont.timeline.halve()
            self.activity.halve()
            self.throttles.halve()

    # ---- feeding ------------------------------------------------------------------------
    def apply_records(self, records: list[L.Record], now: float) -> None:
        """Apply a batch of parsed log records (any order, any streams).

        A run of records of one stream (a Kinesis record is one stream's batch; polling and Live
        Tail give runs too) looks its container up once and marks it changed once: the run's
        container stays the one to write to until a call that may create or evict containers
        (a placed answer) or the container's own creation says otherwise."""
        counters = self.counters
        containers = self.containers
        changed = self._changed
        ids = self._ledger.ids
        stream: object = _NO_RUN  # the current run's stream; `c`, its container, is set with it
        c: Container = None  # type: ignore[assignment]  # never read before the first run sets it
        for rec in records:
            kind = rec.kind
            if kind in _NO_CONTAINER:
                if kind == _APP:
                    counters.app_lines += 1
                elif kind == _MALFORMED:
                    counters.malformed += 1
                    if rec.data and rec.data.get("system"):
                        counters.system_malformed += 1
                elif kind == _SYSTEM:  # about an instance, not an environment: no container for it
                    note_system(self.instances, self.counters, rec)
                else:  # _LOGS_DROPPED: about the delivery, not the environment
                    dropped = rec.data or {}
                    counters.logs_dropped += dropped.get("records", 0)
                    counters.logs_dropped_bytes += dropped.get("bytes", 0)
                continue
            ms = rec.timestamp
            t = ms / 1000.0
            if rec.stream is stream:
                if t > c.last_seen:  # a time inside the container's seen span is on the clock already
                    c.last_seen = t
                    self._see_ms(ms)
                elif t < c.first_seen:
                    c.first_seen = t
                    self._see_ms(ms)
            else:
                stream = rec.stream
                found = containers.get(stream)
                if found is None:
                    c = self._container(stream, t, ms)
                    if containers.get(stream) is not c:  # it evicted itself (the oldest seen)
                        stream = _NO_RUN
                else:
                    c = found
                    if t > c.last_seen:
                        c.last_seen = t
                        self._see_ms(ms)
                    elif t < c.first_seen:
                        c.first_seen = t
                        self._see_ms(ms)
                changed.add(c.container_id)
            rid = rec.request_id
            if kind == _START:
                if rec.data is not None and c.tenant_id is None:
                    c.tenant_id = rec.data.get("tenant_id")
                if rid:
                    # Usually the request's first line: its time waits in `in_flight` (no id
                    # table entry yet) for the line that counts it.
                    entry = ids.get(rid)
                    if entry is not None:
                        self._ledger.line(c, rid, t)
                    if entry is None or not entry[0] & _ENDED:
                        if len(c.in_flight) < MAX_IN_FLIGHT:
                            c.in_flight[rid] = t
                        if t > c._last_start:
                            c._last_start = t
            elif kind == _END:
                pass  # END says nothing the model needs: it falls between START and REPORT
            elif kind == _REPORT:
                self._report(c, rec, t, now)
                if rid and self._unplaced:
                    self._place_answer(rid, rec.stream, now)
                    stream = _NO_RUN  # an answer placed may have made or evicted containers
            elif kind == _PROBE:
                data = rec.data or {}
                self.probe_seen = True
                if data.get("container_id_from") == "tmp" and rid:
                    self._place(rid, rec.stream)
                    stream = _NO_RUN
                self._identity(c, data, t)
                if rid:
                    self._ledger.invocation(c, rid, t, now, True, data.get("cold") is True)
            elif kind == _HOST:  # the extension's line, once per environment at its init
                self._identity(c, rec.data or {}, t, "extension")
            elif kind == _INIT_START or kind == _RESTORE_START:
                self._init_start(c, kind, t, ms, rec.data)
            elif kind == _INIT_REPORT or kind == _RESTORE_REPORT:
                self._init_report(c, kind, t, ms, rec.data or {})
            elif kind == _TIMEOUT:
                if rid:
                    entry = self._ledger.line(c, rid, t)
                    self._ledger.end(c, rid, entry)
                    self._ledger.fault(c, entry, _TIMED_OUT, total=rid not in self._failed)
            elif kind == _CRASH:
                if rid:
                    self._ledger.fault(c, self._ledger.line(c, rid, t), _CRASHED, total=rid not in self._failed)
                else:  # no request id to count it once by: each line is one crash
                    c.crashes += 1
                    c.errors += 1
                    counters.errors += 1

    @property
    def log_lags(self) -> list[float]:
        """Response → log confirmation lags, seconds (a bounded uniform sample, unsorted)."""
        return self._ledger.lags.values

    @property
    def failed_unreported(self) -> int:
        """Function errors the responses reported (X-Amz-Function-Error) whose REPORT line the
        logs have not given yet: invocations that ran, owed by the logs like any other."""
        return len(self._failed)

    def forget(self, container_id: str) -> None:
        """Drop a container (the user asked, or the model holds too many)."""
        if self.containers.pop(container_id, None) is not None:
            self._removed.append(container_id)
            self._changed.discard(container_id)

    # ---- internals ----------------------------------------------------------------------
    def _container(self, cid: str, t: float, ms: int) -> Container:
        self._see_ms(ms)
        if self.started_at is None or t < self.started_at:
            self.started_at = t
        last = self._cohort_last_first_seen
        if last is not None and t - last > self.cohort_gap_s:
            self._cohort += 1
        self._cohort_last_first_seen = t if last is None else max(last, t)
        c = Container(cid, t, self._cohort, self._seq, Timeline(self.clock))
        self._seq += 1
        self.containers[cid] = c
        self._added.append(cid)
        if len(self.containers) > self.max_containers:
            self._evict_oldest_gone()
        return c

    def _evict_oldest_gone(self) -> None:
        oldest = min(self.containers.values(), key=lambda c: c.last_seen)
        self.forget(oldest.container_id)

    def host_note(self, c: Container) -> str:
        """What to show where a container's host would be: "" while it may still come (or has
        come), NO_EXTENSION once the logs reported an invocation of a function without the probe
        and its stream carries no extension line (the extension prints before the first START)."""
        if c.hostname or c.cpu_model or self.probe_seen or not c.confirmed:
            return ""
        return NO_EXTENSION

    def _identity(self, c: Container, rec: dict, t: float, source: str = "probe") -> None:
        """Host facts from the earliest probe record or extension line (by time, whatever the
        arrival order); `source` says which it was."""
        if c.init_type is None and rec.get("init_type"):
            c.init_type = rec["init_type"]
        if c.max_concurrency is None and rec.get("max_concurrency") is not None:
            c.max_concurrency = rec["max_concurrency"]
        if c._identity_at is not None and t >= c._identity_at:
            return  # the usual case: an earlier probe of this environment gave them
        if not rec.get("hostname") and not rec.get("cpu_model"):
            return
        c._identity_at = t
        c.host_from = source
        c.hostname = rec.get("hostname") or ""
        c.boot_id = rec.get("boot_id") or ""
        c.cpu_model = rec.get("cpu_model") or ""
        c.cpu_mhz = rec.get("cpu_mhz") or 0.0
        c.bogomips = rec.get("bogomips") or 0.0
        # An EC2 host names itself (Managed Instances run on the user's instances): the host has a
        # real name for once. Evidence: the probe's DMI read.
        c.instance_id = rec.get("instance_id")
        c.instance_type = rec.get("instance_type")

    def _touch(self, c: Container, t: float) -> None:
        if t > c.last_seen:
            c.last_seen = t
        if t < c.first_seen:
            c.first_seen = t

    def _init_start(self, c: Container, kind: str, t: float, ms: int, data: dict | None) -> None:
        if ms not in c._init_times:
            if len(c._init_times) < 64:
                c._init_times.add(ms)
            c.init_starts += 1
        self._init_seen(c, t, "restore" if kind == _RESTORE_START else "init")
        init_type = (data or {}).get("init_type")
        if init_type and c.init_type is None:
            c.init_type = init_type
        elif kind == _RESTORE_START and c.init_type is None:
            c.init_type = "snap-start"  # a restore is SnapStart's, whatever line said so

    def _init_seen(self, c: Container, t: float, kind: str) -> None:
        if c.init_at is None or t < c.init_at:
            c.init_at = t
            c.init_kind = kind

    def _init_report(self, c: Container, kind: str, t: float, ms: int, data: dict) -> None:
        """The end of an init or restore: it started `duration` before (the start line may be
        missing or come later); a status other than success is a failed init, counted once."""
        duration = data.get("duration_ms")
        restore = kind == _RESTORE_REPORT
        self._init_seen(c, t - (duration or 0.0) / 1000.0, "restore" if restore else "init")
        if duration is not None:
            c.init_report_ms = duration
        init_type = data.get("init_type")
        if init_type and c.init_type is None:
            c.init_type = init_type
        elif restore and c.init_type is None:
            c.init_type = "snap-start"
        status = data.get("status")
        key = (ms, kind, data.get("phase"))
        if status is not None and status != "success" and key not in c._init_reports:
            if len(c._init_reports) < 64:
                c._init_reports.add(key)
            c.init_failures += 1
            c.init_error = data.get("error_type") or status

    def _report(self, c: Container, rec: L.Record, t: float, now: float) -> None:
        rid = rec.request_id
        if rid is None:
            return  # the parser gives a REPORT its id; a hand-made record may not
        # Functions without the probe: REPORT is the invocation. With the probe, the same id
        # was (or will be) counted from the probe line; the id table keeps it to one.
        entry = self._ledger.invocation(c, rid, t, now, True, False)
        flags = entry[0]
        in_flight = c.in_flight
        started = in_flight.pop(rid, None) if in_flight else None
        if flags & _REPORTED:
            entry[0] = flags | _ENDED
            return  # the same REPORT delivered twice (a retried poll, a reconnect)
        entry[0] = flags | _REPORTED | _ENDED
        m = rec.data or {}
        c.reports += 1
        duration = m.get("duration_ms")
        if duration is not None:
            c.duration_sum_ms += duration
        if "max_memory_mb" in m:
            c.max_memory_mb = max(c.max_memory_mb or 0.0, m["max_memory_mb"])
        if "init_duration_ms" in m:
            c.init_durations += 1
            c.init_duration_ms = m["init_duration_ms"]
        if "restore_duration_ms" in m:
            c.restore_durations += 1
            c.restore_duration_ms = m["restore_duration_ms"]
        if c.tenant_id is None and "tenant_id" in m:
            c.tenant_id = m["tenant_id"]
        status = m.get("status")
        if status is not None and status != "success":  # failure, error, timeout, or one not known yet
            flag = _TIMED_OUT if status == "timeout" else _ERRORED
            self._ledger.fault(c, entry, flag, total=rid not in self._failed)
        if self._failed and rid in self._failed:
            del self._failed[rid]
            self._ledger.fault(c, entry, _ERRORED, total=False)
        # The request ran from its START (or Duration before its REPORT) to its REPORT.
        if duration is not None:
            start = t - duration / 1000.0
        else:
            start = started if started is not None else entry[2]
        if start >= c._max_end:  # nothing recent still running: the one-at-a-time case
            if not c.peak_concurrency:
                c.peak_concurrency = 1
            remember(c, start, t)
            c._max_end = t
        else:
            note_interval(c, start, t)
