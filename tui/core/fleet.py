"""The fleet model: containers and hosts, built from parsed records and responses.

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

import random
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field

from tui.core import lambdalog as L
from tui.core.timeline import Clock, Timeline

HOST_KEYS = ("hostname", "boot_id", "cpu_model")
# Managed Instances: the EC2 instance the probe's DMI read names, offered by `g` where one does.
INSTANCE_KEY = "instance_id"
MAX_UNPLACED = 50_000  # SnapStart answers waiting for the logs to name their stream

# Record kinds, bound once (the feeding loop is the hot path of the whole tool).
_APP, _MALFORMED, _REPORT, _PROBE, _START, _END = L.APP, L.MALFORMED, L.REPORT, L.PROBE, L.START, L.END
_INIT_START, _RESTORE_START, _TIMEOUT, _CRASH = L.INIT_START, L.RESTORE_START, L.TIMEOUT, L.CRASH
_INIT_REPORT, _RESTORE_REPORT, _LOGS_DROPPED = L.INIT_REPORT, L.RESTORE_REPORT, L.LOGS_DROPPED
_SYSTEM = L.SYSTEM
MAX_INSTANCES = 10_000  # EC2 instances a capacity provider's system log named (bounded, oldest go)
# Where an environment's host came from (the snapshot's `host_evidence`), strongest first.
EVIDENCE_BOTH = "system log + probe (DMI)"  # the probe read the instance id; the system log knows it
EVIDENCE_DMI = "probe (DMI)"  # the probe read the instance id; the system log has not named it
EVIDENCE_GUESS = "guess: the only instance the system log shows up"  # no probe id: placed by time
EVIDENCE_HOSTNAME = "probe (hostname)"  # no instance: the host is what the probe's hostname says

# Flags kept per request id while both channels may still report it.
_SEEN_RESPONSE = 1
_SEEN_LOG = 2
_COLD_COUNTED = 4  # the probe (or the response) said cold
_REPORTED = 8
_COUNTED = 16  # counted as an invocation (a START alone does not count)
_ENDED = 32  # REPORT or timeout seen: a late START must not put it back in flight
_ERRORED = 64
_TIMED_OUT = 128
_CRASHED = 256

# An on-demand init holds a request for at most the init phase's limit (10 s, AWS-FACTS.md
# §3.2). An environment first invoked later than that after its INIT_START was initialised
# ahead of the request (proactive initialisation, LANDSCAPE-2026.md §1.5: Datadog flags the
# same gap) and did not make anyone wait, unless Lambda itself puts Init Duration on a REPORT.
INIT_GAP_S = 10.0
# Init types whose init never sits on the request path (AWS: provisioned concurrency inits when
# configured; Managed Instances scale asynchronously, LANDSCAPE-2026.md §1.1, §1.5).
WARMED_AHEAD = frozenset({"provisioned-concurrency", "lambda-managed-instances"})
# Where the probe's /tmp marker cannot tell a cold start (LANDSCAPE-2026.md §1.1, §1.2): a
# SnapStart marker written before the snapshot is in every restored environment; Managed
# Instances' Python processes share one /tmp. Its disagreement there is expected, not a fault.
PROBE_UNRELIABLE = frozenset({"snap-start", "lambda-managed-instances"})
MAX_INVOKE_S = 900.0  # Lambda's longest timeout: a START older than this without REPORT is lost
RECENT_INTERVALS = 128  # per container, for peak concurrency
MAX_IN_FLIGHT = 4096
LATENCY_SAMPLES = 10_000


class Container:
    """One execution environment = one log stream."""

    __slots__ = (
        "instance_id",
        "instance_type",
        "container_id",
        "invocations",
        "confirmed",
        "probe_colds",
        "init_starts",
        "_init_times",
        "init_durations",
        "restore_durations",
        "init_duration_ms",
        "restore_duration_ms",
        "init_at",
        "init_kind",
        "init_type",
        "init_failures",
        "hostname",
        "boot_id",
        "cpu_model",
        "cpu_mhz",
        "bogomips",
        "first_seen",
        "last_seen",
        "first_invoked",
        "last_invoked",
        "cohort",
        "order",
        "in_flight",
        "errors",
        "timeouts",
        "crashes",
        "max_memory_mb",
        "timeline",
        "duration_sum_ms",
        "reports",
        "peak_concurrency",
        "_recent",
        "_ri",
        "_max_end",
        "_identity_at",
        "_seq",
        "_last_start",
        "init_report_ms",
        "max_concurrency",
        "tenant_id",
        "_init_reports",
    )

    def __init__(self, container_id: str, first_seen: float, cohort: int, seq: int, timeline: Timeline):
        self.container_id = container_id
        self.invocations = 0
        self.confirmed = 0  # invocations the logs have reported
        self.probe_colds = 0  # invocations the probe called cold
        self.init_starts = 0  # INIT_START/RESTORE_START lines (distinct times)
        self._init_times: set[int] = set()
        self.init_durations = 0  # REPORTs carrying Init Duration
        self.restore_durations = 0  # REPORTs carrying Restore Duration
        self.init_duration_ms: float | None = None
        self.restore_duration_ms: float | None = None
        self.init_at: float | None = None  # earliest INIT_START/RESTORE_START
        self.init_kind: str | None = None  # "init" | "restore", from the earliest start line
        self.init_type: str | None = None  # initializationType as Lambda or the probe gave it
        self.init_failures = 0  # INIT_REPORT/RESTORE_REPORT with a status other than success
        self.init_report_ms: float | None = None  # INIT_REPORT's or RESTORE_REPORT's duration
        self._init_reports: set = set()
        self.max_concurrency: float | None = None  # AWS_LAMBDA_MAX_CONCURRENCY, as the probe saw it
        self.tenant_id: str | None = None  # tenant isolation mode: the tenant this environment serves
        self.hostname = ""
        self.instance_id: str | None = None
        self.instance_type: str | None = None
        self.boot_id = ""
        self.cpu_model = ""
        self.cpu_mhz = 0.0
        self.bogomips = 0.0
        self.first_seen = first_seen  # earliest record of any kind
        self.last_seen = first_seen
        self.first_invoked: float | None = None  # earliest line of any counted invocation
        self.last_invoked: float | None = None  # latest line of any counted invocation
        self.cohort = cohort  # deprecated: a fixed-gap grouping, until the story's waves replace it
        self.order = seq  # position by first invocation, refreshed by Fleet.ordered()
        self.in_flight: dict[str, float] = {}  # START seen, REPORT not yet: request id → START time
        self.errors = 0
        self.timeouts = 0
        self.crashes = 0
        self.max_memory_mb: float | None = None
        self.timeline = timeline
        self.duration_sum_ms = 0.0
        self.reports = 0
        self.peak_concurrency = 0  # most requests seen running at once (START→REPORT intervals)
        self._recent = array("d")  # start, end of the recent requests, a ring of RECENT_INTERVALS pairs
        self._ri = 0  # the ring's next pair, once full
        self._max_end = float("-inf")
        self._identity_at: float | None = None
        self._seq = seq
        self._last_start = float("-inf")

    # ---- what the evidence says ---------------------------------------------------------
    @property
    def pre_initialized(self) -> bool:
        """Initialised and never invoked (proactive initialisation, provisioned concurrency)."""
        return self.invocations == 0 and self.init_at is not None

    @property
    def init_to_first_s(self) -> float | None:
        if self.init_at is None or self.first_invoked is None:
            return None
        return max(0.0, self.first_invoked - self.init_at)

    @property
    def probe_reliable(self) -> bool:
        """Whether the probe's /tmp marker can tell this environment's cold start: not on
        SnapStart or Managed Instances, nor wherever one environment serves requests at once."""
        if self.init_type in PROBE_UNRELIABLE:
            return False
        return not (self.max_concurrency and self.max_concurrency > 1) and self.peak_concurrency <= 1

    @property
    def cold_starts(self) -> int:
        """Invocations that paid an init (AWS-FACTS.md §3.5), strongest evidence first:
        1. Lambda's own REPORT carries Init Duration or Restore Duration: one per such REPORT;
        2. an init type whose init is never on the request path: none;
        3. an INIT_START/RESTORE_START: one if the first invocation came within INIT_GAP_S of
           it, none if later (initialised ahead of the request);
        4. no platform line about the init: one if the probe said cold (where it can tell).
        The probe's `cold` only says "first invocation of this environment", which is also
        true of a pre-initialised one, so it is the weakest."""
        if not self.invocations:
            return 0
        paid = self.init_durations + self.restore_durations
        if paid:
            return paid
        if self.init_type in WARMED_AHEAD:
            return 0
        if self.init_at is not None:
            first = self.first_invoked
            return 1 if first is not None and first - self.init_at <= INIT_GAP_S else 0
        return 1 if self.probe_colds and self.probe_reliable else 0

    @property
    def cold_kind(self) -> str | None:
        """ "init" or "restore" (SnapStart) for a container that paid one, else None."""
        if not self.cold_starts:
            return None
        if self.restore_durations or (not self.init_durations and self.init_kind == "restore"):
            return "restore"
        return "init"

    @property
    def cold_at(self) -> float | None:
        """When the cold start happened: the first invocation of a container that paid one."""
        return self.first_invoked if self.cold_starts else None

    @property
    def cold_signals_disagree(self) -> bool:
        """The probe's count and Lambda's REPORTs differ, where both speak and the probe can
        tell (a pre-initialised environment's first invocation is not a disagreement)."""
        paid = self.init_durations + self.restore_durations
        return self.probe_reliable and bool(self.probe_colds) and bool(paid) and self.probe_colds != paid

    @property
    def concurrency(self) -> int:
        """Requests started and not yet reported."""
        return len(self.in_flight)

    @property
    def unconfirmed(self) -> int:
        return self.invocations - self.confirmed

    def host_key(self, which: str) -> str:
        return getattr(self, which) or "?"

    def state(self, now: float, idle_after: float, gone_after: float) -> str:
        if self.pre_initialized:
            return "pre-initialised"
        quiet = now - self.last_seen
        if quiet >= gone_after:
            return "gone"
        if self.in_flight and now - self._last_start < MAX_INVOKE_S:
            return "busy"
        return "busy" if quiet < idle_after else "idle"


class Instance:
    """One EC2 instance of a capacity provider (Managed Instances), from its system log.

    Every fact is a min, a max or a count, so records in any order give the same instance."""

    __slots__ = (
        "instance_id",
        "instance_type",
        "availability_zone",
        "launching_at",
        "launched_at",
        "terminating_at",
        "terminated_at",
        "first_seen",
        "last_seen",
        "last_event",
        "events",
        "failures",
    )

    def __init__(self, instance_id: str, t: float):
        self.instance_id = instance_id
        self.instance_type: str | None = None
        self.availability_zone: str | None = None
        self.launching_at: float | None = None
        self.launched_at: float | None = None  # ready to serve (the "Launched" event)
        self.terminating_at: float | None = None
        self.terminated_at: float | None = None
        self.first_seen = t
        self.last_seen = t
        self.last_event: str | None = None  # the latest record's event (None: a kind not known)
        self.events = 0
        self.failures: dict[str, int] = {}  # LaunchFailed, TerminateFailed, HealthCheckFailed → count

    @property
    def up_from(self) -> float:
        """The earliest time the system log puts this instance up (or on its way)."""
        return min(t for t in (self.launching_at, self.launched_at, self.first_seen) if t is not None)

    @property
    def state(self) -> str:
        if self.terminated_at is not None:
            return "terminated"
        if self.terminating_at is not None:
            return "terminating"
        if self.launched_at is not None:
            return "running"
        if self.failures.get("LaunchFailed"):
            return "launch-failed"
        return "launching" if self.launching_at is not None else "unknown"

    def up_over(self, start: float, end: float) -> bool:
        """The system log puts it up over the whole of [start, end]."""
        gone = self.terminated_at if self.terminated_at is not None else self.terminating_at
        return self.up_from <= start and (gone is None or gone >= end)


_EVENT_TIME = {
    "Launching": "launching_at",
    "Launched": "launched_at",
    "Terminating": "terminating_at",
    "Terminated": "terminated_at",
}


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
    logs_dropped: int = 0  # records Lambda says it dropped (platform.logsDropped): counts are short
    logs_dropped_bytes: int = 0
    unknown_stream_lines: int = 0
    system_records: int = 0  # capacity-provider system log records read (Managed Instances)
    system_unknown: int = 0  # of them, events of a kind not known (kept, counted)
    system_malformed: int = 0  # system log records that could not be read (also in `malformed`)
    evicted_ids: int = 0  # request ids forgotten before both channels reported them
    log_lag_s: float | None = None  # last measured response → log confirmation lag
    log_lag_max_s: float = 0.0


class Latency:
    """Response latency split by the response's cold flag, bounded: every cold one up to
    `limit` (they are few), a uniform reservoir of `limit` warm ones (deterministic seed)."""

    __slots__ = ("cold_ms", "warm_ms", "warm_seen", "limit", "_rng")

    def __init__(self, limit: int = LATENCY_SAMPLES):
        self.cold_ms: list[float] = []
        self.warm_ms: list[float] = []
        self.warm_seen = 0
        self.limit = limit
        self._rng = random.Random(0)

    def add(self, ms: float, cold: bool) -> None:
        if cold:
            if len(self.cold_ms) < self.limit:
                self.cold_ms.append(ms)
            return
        self.warm_seen += 1
        if len(self.warm_ms) < self.limit:
            self.warm_ms.append(ms)
        elif self._rng.random() * self.warm_seen < self.limit:  # kept with chance limit/seen
            self.warm_ms[int(self._rng.random() * self.limit)] = ms


class Fleet:
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
        # request id → [flags, response arrival time, earliest line, latest line]: bounded.
        self._ids: OrderedDict[str, list] = OrderedDict()
        self._max_ids = max_tracked_ids
        # SnapStart hides the stream name from the function, so the probe names its environment
        # by an id kept in /tmp (`container_id_from: "tmp"`), which is not the stream and may
        # even be shared (restored from one snapshot). The request id is what both channels
        # share: the probe's log line puts a request in its real stream. An answer whose stream
        # the logs have not given yet waits here (bounded), and counts the moment they do, so one
        # environment is one container.
        self._rid_stream: OrderedDict[str, str] = OrderedDict()  # request id -> stream (tmp ids only)
        self._unplaced: OrderedDict[str, tuple] = OrderedDict()  # request id -> (outcome, record, now)
        self._cohort = 0
        self._seq = 0
        self._cohort_last_first_seen: float | None = None
        self._added: list[str] = []
        self._changed: set[str] = set()
        self._removed: list[str] = []
        self.started_at: float | None = None  # the first time seen (deprecated: use origin)

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
        """Apply a batch of parsed log records (any order, any streams)."""
        counters = self.counters
        containers = self.containers
        changed = self._changed
        ids = self._ids
        for rec in records:
            kind = rec.kind
            if kind == _APP:
                counters.app_lines += 1
                continue
            if kind == _MALFORMED:
                counters.malformed += 1
                if rec.data and rec.data.get("system"):
                    counters.system_malformed += 1
                continue
            if kind == _SYSTEM:  # about an instance, not an environment: no container for it
                self._system(rec)
                continue
            if kind == _LOGS_DROPPED:  # about the delivery, not the environment: no container for it
                dropped = rec.data or {}
                counters.logs_dropped += dropped.get("records", 0)
                counters.logs_dropped_bytes += dropped.get("bytes", 0)
                continue
            ms = rec.timestamp
            t = ms / 1000.0
            c = containers.get(rec.stream)
            if c is None:
                c = self._container(rec.stream, t, ms)
            elif t > c.last_seen:  # a time inside the container's seen span is on the clock already
                c.last_seen = t
                self._see_ms(ms)
            elif t < c.first_seen:
                c.first_seen = t
                self._see_ms(ms)
            changed.add(c.container_id)
            rid = rec.request_id
            if kind == _REPORT:
                self._report(c, rec, t, now)
            elif kind == _PROBE:
                data = rec.data or {}
                if data.get("container_id_from") == "tmp" and rid:
                    self._place(rid, rec.stream)
                self._identity(c, data, t)
                if rid:
                    self._invocation(c, rid, t, now, True, data.get("cold") is True)
            elif kind == _START:
                if rec.data is not None and c.tenant_id is None:
                    c.tenant_id = rec.data.get("tenant_id")
                if rid:
                    # Usually the request's first line: its time waits in `in_flight` (no id
                    # table entry yet) for the line that counts it.
                    entry = ids.get(rid)
                    if entry is not None:
                        self._line(c, rid, t)
                    if entry is None or not entry[0] & _ENDED:
                        if len(c.in_flight) < MAX_IN_FLIGHT:
                            c.in_flight[rid] = t
                        if t > c._last_start:
                            c._last_start = t
            elif kind == _END:
                pass  # END says nothing the model needs: it falls between START and REPORT
            elif kind == _INIT_START or kind == _RESTORE_START:
                self._init_start(c, kind, t, ms, rec.data)
            elif kind == _INIT_REPORT or kind == _RESTORE_REPORT:
                self._init_report(c, kind, t, ms, rec.data or {})
            elif kind == _TIMEOUT:
                if rid:
                    entry = self._line(c, rid, t)
                    self._end(c, rid, entry)
                    self._fault(c, entry, _TIMED_OUT)
            elif kind == _CRASH:
                if rid:
                    self._fault(c, self._line(c, rid, t), _CRASHED)
                else:  # no request id to count it once by: each line is one crash
                    c.crashes += 1
                    c.errors += 1
                    counters.errors += 1

    def apply_outcomes(self, outcomes, now: float) -> None:
        """Apply a batch of load-generator outcomes (objects with status, error,
        container_id, request_id, cold, record, sent_at, latency_ms)."""
        counters = self.counters
        for o in outcomes:
            counters.requests += 1
            t = o.sent_at + (o.latency_ms or 0.0) / 1000.0
            if o.error == "throttled":
                counters.throttled += 1
                self.throttles.add_at(self._see_ms(int(t * 1000.0 + 0.5)))
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
            self._apply_outcome(o, record, t, now)

    def _apply_outcome(self, o, record: dict, t: float, now: float) -> None:
        cid = o.container_id
        if record.get("container_id_from") == "tmp":
            stream = self._rid_stream.get(o.request_id)
            if stream is None:
                self._hold_unplaced(o, record, now)
                return
            cid = stream
        c = self.containers.get(cid)
        if c is None:
            c = self._container(cid, t, int(t * 1000.0 + 0.5))
        elif t > c.last_seen:  # inside the container's seen span: on the clock already
            c.last_seen = t
            self._see_ms(int(t * 1000.0 + 0.5))
        elif t < c.first_seen:
            c.first_seen = t
            self._see_ms(int(t * 1000.0 + 0.5))
        if record:
            self._identity(c, record, t)
        cold = o.cold is True
        self._invocation(c, o.request_id, t, now, False, cold)
        if o.latency_ms is not None:
            # Environments initialised ahead (provisioned concurrency, Managed Instances) made no
            # request wait for their init: the probe's first answer there is not a cold latency.
            self.latency.add(o.latency_ms, cold and c.init_type not in WARMED_AHEAD)
        self._changed.add(c.container_id)

    @property
    def unplaced(self) -> int:
        """Answers from SnapStart environments whose stream the logs have not named yet."""
        return len(self._unplaced)

    def _hold_unplaced(self, o, record: dict, now: float) -> None:
        self._unplaced[o.request_id] = (o, record, now)
        while len(self._unplaced) > MAX_UNPLACED:  # the oldest answer goes: counted, never silent
            self._unplaced.popitem(last=False)
            self.counters.evicted_ids += 1

    def _place(self, rid: str, stream: str) -> None:
        """The logs put request `rid` in `stream`: its answer, if it waits, counts there."""
        self._rid_stream[rid] = stream
        if len(self._rid_stream) > self._max_ids:
            self._rid_stream.popitem(last=False)
        waiting = self._unplaced.pop(rid, None)
        if waiting is not None:
            o, record, at = waiting
            self._apply_outcome(o, record, o.sent_at + (o.latency_ms or 0.0) / 1000.0, at)

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
        """ "pre-initialised" | "busy" | "idle" | "gone"."""
        return c.state(now, self.idle_after_s, self.gone_after_s)

    def hosts(self, host_key: str) -> dict[str, int]:
        """Serving containers per host, in order of each host's first container (an environment
        never invoked has no host to show: the probe runs only in an invocation)."""
        counts: dict[str, int] = {}
        for c in self.ordered():
            if c.invocations:
                key = c.host_key(host_key)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def ordered(self, sort: str = "first") -> list[Container]:
        """Containers in `sort` order: "first" (first invocation; pre-initialised and never
        invoked ones after the serving ones, by first line), "invocations", or a host key.
        Refreshes every container's `order` (its position by first invocation)."""
        by_first = sorted(self.containers.values(), key=_first_key)
        for i, c in enumerate(by_first):
            c.order = i
        if sort == "invocations":
            return sorted(by_first, key=lambda c: -c.invocations)
        if sort in HOST_KEYS or sort == INSTANCE_KEY or sort == "host":
            key = "hostname" if sort == "host" else sort
            return sorted(by_first, key=lambda c: c.host_key(key))
        return by_first

    def host_keys(self) -> tuple[str, ...]:
        """The host keys worth offering: HOST_KEYS, and the EC2 instance where some environment
        named one (Managed Instances)."""
        if any(c.instance_id for c in self.containers.values()):
            return HOST_KEYS + (INSTANCE_KEY,)
        return HOST_KEYS

    @property
    def serving(self) -> int:
        """Containers that served at least one invocation."""
        return sum(1 for c in self.containers.values() if c.invocations)

    @property
    def cold_starts(self) -> int:
        """Serving containers' cold starts (see Container.cold_starts)."""
        return sum(c.cold_starts for c in self.containers.values())

    @property
    def cold_starts_by_kind(self) -> dict[str, int]:
        out = {"init": 0, "restore": 0}
        for c in self.containers.values():
            n = c.cold_starts
            kind = c.cold_kind
            if n and kind:
                out[kind] += n
        return out

    @property
    def pre_initialized(self) -> int:
        return sum(1 for c in self.containers.values() if c.pre_initialized)

    def host_of(self, c: Container) -> tuple[str | None, "Instance | None", str]:
        """(instance id, its Instance if the system log named it, evidence) for `c`'s host.

        The probe's DMI read names the instance; the system log adds its AZ and lifecycle. With
        no instance id from the probe, an environment of Managed Instances is placed on the only
        instance the system log shows up over its whole life, and the evidence says it is a
        guess (the log names instances, never environments)."""
        iid = c.instance_id
        if iid:
            inst = self.instances.get(iid)
            return iid, inst, EVIDENCE_BOTH if inst is not None else EVIDENCE_DMI
        if self.instances and c.init_type == "lambda-managed-instances" and c.invocations:
            start = c.first_invoked if c.first_invoked is not None else c.first_seen
            end = c.last_invoked if c.last_invoked is not None else c.last_seen
            up = [i for i in self.instances.values() if i.up_over(start, end)]
            if len(up) == 1:
                return up[0].instance_id, up[0], EVIDENCE_GUESS
        return None, None, EVIDENCE_HOSTNAME

    # ---- internals ----------------------------------------------------------------------
    def _system(self, rec: L.Record) -> None:
        """A capacity-provider system log record: the instance it names, its lifecycle."""
        self.counters.system_records += 1
        data = rec.data or {}
        event = data.get("event")
        if event is None:
            self.counters.system_unknown += 1
        iid = data.get("instance_id")
        if not iid:
            return  # about the capacity provider as a whole: counted, no instance to put it on
        t = rec.timestamp / 1000.0
        inst = self.instances.get(iid)
        if inst is None:
            inst = self.instances[iid] = Instance(iid, t)
            if len(self.instances) > MAX_INSTANCES:
                self.instances.popitem(last=False)
        inst.events += 1
        if t <= inst.first_seen:
            inst.first_seen = t
        if t >= inst.last_seen:
            inst.last_seen = t
            inst.last_event = event
        if data.get("instance_type") and inst.instance_type is None:
            inst.instance_type = data["instance_type"]
        if data.get("availability_zone") and inst.availability_zone is None:
            inst.availability_zone = data["availability_zone"]
        field_name = _EVENT_TIME.get(event or "")
        if field_name is not None:
            old = getattr(inst, field_name)
            if old is None or t < old:
                setattr(inst, field_name, t)
        elif event is not None and event.endswith("Failed"):
            inst.failures[event] = inst.failures.get(event, 0) + 1

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

    def _identity(self, c: Container, rec: dict, t: float) -> None:
        """Host facts from the earliest probe record (by time, whatever the arrival order)."""
        if c.init_type is None and rec.get("init_type"):
            c.init_type = rec["init_type"]
        if c.max_concurrency is None and rec.get("max_concurrency") is not None:
            c.max_concurrency = rec["max_concurrency"]
        if c._identity_at is not None and t >= c._identity_at:
            return  # the usual case: an earlier probe of this environment gave them
        if not rec.get("hostname") and not rec.get("cpu_model"):
            return
        c._identity_at = t
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

    def _entry(self, rid: str, t: float, c: Container) -> list:
        """The request's entry, created uncounted: [flags, response arrival, earliest line,
        latest line, the container that counted it], its START's time (held in the
        container's `in_flight`) taken in. Bounded: the oldest is forgotten first."""
        entry = self._ids.get(rid)
        if entry is None:
            started = c.in_flight.get(rid) if c.in_flight else None
            entry = [0, None, t, t, None] if started is None else [0, None, min(t, started), max(t, started), None]
            self._ids[rid] = entry
            if len(self._ids) > self._max_ids:
                _, old = self._ids.popitem(last=False)
                if old[0] & _COUNTED and old[0] & (_SEEN_RESPONSE | _SEEN_LOG) != (_SEEN_RESPONSE | _SEEN_LOG):
                    self.counters.evicted_ids += 1
        return entry

    def _line(self, c: Container, rid: str, t: float) -> list:
        """A line of request `rid` at `t` that does not count it (START, END, timeout, crash)."""
        entry = self._entry(rid, t, c)
        if entry[0] & _COUNTED:
            self._retime(entry, t)
        else:
            if t < entry[2]:
                entry[2] = t
            if t > entry[3]:
                entry[3] = t
        return entry

    def _retime(self, entry: list, t: float) -> None:
        """A counted invocation's line at `t`: it happened at its earliest line. The container
        that counted it keeps it (a request id seen in two streams is one invocation)."""
        c = entry[4]
        if t < entry[2]:
            old = entry[2]
            entry[2] = t
            a_old, a_new = self.clock.absolute(old), self.clock.absolute(t)
            if a_old != a_new:
                c.timeline.add_at(a_old, -1)
                c.timeline.add_at(a_new)
                self.activity.add_at(a_old, -1)
                self.activity.add_at(a_new)
            if t < c.first_invoked:
                c.first_invoked = t
        if t > entry[3]:
            entry[3] = t
        if t > c.last_invoked:
            c.last_invoked = t

    def _invocation(self, c: Container, rid: str, t: float, now: float, from_log: bool, cold: bool) -> list:
        """Count `rid` once across both channels; note confirmation and the lag between them."""
        entry = self._ids.get(rid)
        if entry is None:
            entry = self._entry(rid, t, c)
        flags = entry[0]
        if not flags & _COUNTED:
            flags |= _COUNTED
            if t < entry[2]:
                entry[2] = t
            if t > entry[3]:
                entry[3] = t
            first, last = entry[2], entry[3]
            entry[4] = c
            c.invocations += 1
            self.counters.invocations += 1
            clock = self.clock
            a = (int(first * 1000.0 + 0.5) // clock.base_ms) >> clock.shift
            c.timeline.add_at(a)
            self.activity.add_at(a)
            if c.first_invoked is None or first < c.first_invoked:
                c.first_invoked = first
            if c.last_invoked is None or last > c.last_invoked:
                c.last_invoked = last
        elif t < entry[2] or t > entry[3]:
            self._retime(entry, t)
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
        entry[0] = flags
        return entry

    def _end(self, c: Container, rid: str, entry: list) -> None:
        entry[0] |= _ENDED
        if c.in_flight:
            c.in_flight.pop(rid, None)

    def _fault(self, c: Container, entry: list, flag: int) -> None:
        """A failed invocation, counted once whichever lines report it (a timeout line and a
        REPORT with Status: timeout are one timeout, and one error)."""
        flags = entry[0]
        if flag == _TIMED_OUT and not flags & _TIMED_OUT:
            c.timeouts += 1
        elif flag == _CRASHED and not flags & _CRASHED:
            c.crashes += 1
        if not flags & _ERRORED:
            c.errors += 1
            self.counters.errors += 1
        entry[0] = flags | flag | _ERRORED

    def _report(self, c: Container, rec: L.Record, t: float, now: float) -> None:
        rid = rec.request_id
        if rid is None:
            return  # the parser gives a REPORT its id; a hand-made record may not
        # Functions without the probe: REPORT is the invocation. With the probe, the same id
        # was (or will be) counted from the probe line; the id table keeps it to one.
        entry = self._invocation(c, rid, t, now, True, False)
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
            self._fault(c, entry, _TIMED_OUT if status == "timeout" else _ERRORED)
        # The request ran from its START (or Duration before its REPORT) to its REPORT.
        if duration is not None:
            start = t - duration / 1000.0
        else:
            start = started if started is not None else entry[2]
        if start >= c._max_end:  # nothing recent still running: the one-at-a-time case
            if not c.peak_concurrency:
                c.peak_concurrency = 1
            _remember(c, start, t)
            c._max_end = t
        else:
            self._interval(c, start, t)

    def _interval(self, c: Container, s: float, e: float) -> None:
        """Peak concurrency: the most recent intervals covering one instant, checked at the
        starts that the new interval can change (its own, and those inside it)."""
        recent = c._recent
        if s >= c._max_end:  # nothing recent still running: the common, one-at-a-time case
            if c.peak_concurrency < 1:
                c.peak_concurrency = 1
        else:
            pairs = list(zip(recent[0::2], recent[1::2]))
            points = [s] + [s2 for s2, _ in pairs if s < s2 < e]
            peak = c.peak_concurrency
            for p in points:
                n = 1 if s <= p < e else 0
                for s2, e2 in pairs:
                    if s2 <= p < e2:
                        n += 1
                if n > peak:
                    peak = n
            c.peak_concurrency = peak
        _remember(c, s, e)
        if e > c._max_end:
            c._max_end = e


def _remember(c: Container, s: float, e: float) -> None:
    """Keep (s, e) among the container's recent intervals: flat doubles, 16 bytes a pair."""
    r = c._recent
    if len(r) < 2 * RECENT_INTERVALS:
        r.append(s)
        r.append(e)
    else:
        i = 2 * c._ri
        r[i], r[i + 1] = s, e
        c._ri = (c._ri + 1) % RECENT_INTERVALS


def _first_key(c: Container):
    if c.invocations:
        return (0, c.first_invoked, c.first_seen, c._seq)
    return (1, c.first_seen, c.first_seen, c._seq)
