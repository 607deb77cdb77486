"""One execution environment (= one log stream): its facts, how its cold start and state are
read from them, and its peak concurrency.

Pure: no IO. Every fact is a min, a max, a count or a flag (records arrive in any order);
what is inferred from them is computed when read.
"""

from array import array

from tui.core.timeline import Timeline

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
        "init_error",
        "hostname",
        "host_from",
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
        self.init_error: str | None = None  # the last failed init's Error Type (else its Status)
        self.init_report_ms: float | None = None  # INIT_REPORT's or RESTORE_REPORT's duration
        self._init_reports: set = set()
        self.max_concurrency: float | None = None  # AWS_LAMBDA_MAX_CONCURRENCY, as the probe saw it
        self.tenant_id: str | None = None  # tenant isolation mode: the tenant this environment serves
        self.hostname = ""
        self.host_from: str | None = None  # where the host facts came from: "probe" | "extension"
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

    def state(self, now: float, idle_after: float, gone_after: float, ended: bool = False) -> str:
        """ "pre-initialised" | "busy" | "idle" | "gone" at `now`. With `ended` (a finished log
        read after the fact, `now` its last line) nothing is busy: the data's own clock has
        stopped, so an environment is idle at the end of the data, or gone long before it."""
        if self.pre_initialized:
            return "pre-initialised"
        quiet = now - self.last_seen
        if quiet >= gone_after:
            return "gone"
        if ended:
            return "idle"
        if self.in_flight and now - self._last_start < MAX_INVOKE_S:
            return "busy"
        return "busy" if quiet < idle_after else "idle"


def note_interval(c: Container, s: float, e: float) -> None:
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
    remember(c, s, e)
    if e > c._max_end:
        c._max_end = e


def remember(c: Container, s: float, e: float) -> None:
    """Keep (s, e) among the container's recent intervals: flat doubles, 16 bytes a pair."""
    r = c._recent
    if len(r) < 2 * RECENT_INTERVALS:
        r.append(s)
        r.append(e)
    else:
        i = 2 * c._ri
        r[i], r[i + 1] = s, e
        c._ri = (c._ri + 1) % RECENT_INTERVALS


def first_key(c: Container):
    if c.invocations:
        return (0, c.first_invoked, c.first_seen, c._seq)
    return (1, c.first_seen, c.first_seen, c._seq)
