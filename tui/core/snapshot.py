"""The snapshot document (DESIGN.md "Snapshot / --format json") and its CSV and table forms.

Pure: no files, no network, no Textual. `run`, `analyze` and the app's `s` key all build the
document here; `tui.output.files` writes it.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui.core import findings
from tui.core.findings.common import latency_samples, percentile, rounded
from tui.core.fleet import Container, Fleet

CONTAINER_COLUMNS = [
    "container_id",
    "invocations",
    "cold_starts",
    "hostname",
    "cpu_model",
    "first_seen",
    "last_seen",
    "init_duration_ms",
    "host_key",
    "wave",
    "state",
    "why",
    "pre_initialized",
    "boot_id",
    "cpu_mhz",
    "bogomips",
    "confirmed",
    "errors",
    "max_memory_mb",
    "cold_signals_disagree",
    "init_type",
    "peak_concurrency",
    "restore_duration_ms",
    "init_failures",
    "timeouts",
    "instance_id",
    "instance_type",
    "availability_zone",
    "host_evidence",
    "host_from",
]
TIMELINE_COLUMNS = ["container_id", "host_key", "wave", "bucket_start", "t_s", "bucket_s", "invocations"]


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _no_host(row: dict) -> str:
    return "no extension" if row.get("host_from") == "no extension" else ""


def container_row(fleet: Fleet, c: Container, now: float, host_key: str, story: findings.Story | None = None) -> dict:
    story = story or findings.tell(fleet, now, host_key=host_key)
    pre = c.pre_initialized
    instance_id, inst, evidence = fleet.host_of(c)
    return {
        "container_id": c.container_id,
        "invocations": c.invocations,
        "cold_starts": 0 if pre else c.cold_starts,
        "hostname": c.hostname,
        "cpu_model": c.cpu_model,
        # probe | extension | "no extension" (a function without the probe, a stream without
        # the extension's line) | None (not known yet)
        "host_from": c.host_from or fleet.host_note(c) or None,
        "first_seen": iso(c.first_seen),
        "last_seen": iso(c.last_seen),
        "init_duration_ms": c.init_duration_ms if c.init_duration_ms is not None else c.restore_duration_ms,
        "host_key": None if pre else c.host_key(host_key),
        "wave": story.wave_of.get(c.container_id),
        "state": story.state(c, now),
        "why": story.retired.get(c.container_id),
        "pre_initialized": pre,
        "boot_id": c.boot_id,
        "cpu_mhz": c.cpu_mhz,
        "bogomips": c.bogomips,
        # The EC2 instance (Managed Instances) and which evidence placed the environment there:
        # the probe's DMI read, the capacity provider's system log, both, or a guess (it says so).
        "instance_id": instance_id,
        "instance_type": c.instance_type or (inst.instance_type if inst is not None else None),
        "availability_zone": inst.availability_zone if inst is not None else None,
        "host_evidence": None if pre else evidence,
        "confirmed": c.confirmed,
        "errors": c.errors,
        "max_memory_mb": c.max_memory_mb,
        "cold_signals_disagree": c.cold_signals_disagree,
        "init_type": c.init_type,  # issue 10's snapshot contract: today's Lambda, from the model
        "peak_concurrency": c.peak_concurrency,
        "restore_duration_ms": c.restore_duration_ms,
        "init_failures": c.init_failures,
        "timeouts": c.timeouts,
    }


def snapshot(
    fleet: Fleet,
    *,
    now: float,
    source: dict,
    load: dict | None = None,
    host_key: str = "hostname",
    sort: str = "first",
    extra: dict | None = None,
    story: findings.Story | None = None,
) -> dict:
    """The whole document: what a user saw, as data, with the story it tells."""
    story = story or findings.tell(fleet, now, host_key=host_key)
    ordered = fleet.ordered(sort)
    rows = [container_row(fleet, c, now, host_key, story) for c in ordered]
    hosts: dict[str, dict] = {}
    for c, row in zip(ordered, rows):
        if row["pre_initialized"]:
            continue  # initialised, never invoked: no host is known, and it is not one
        h = hosts.get(row["host_key"])
        if h is None:
            inst = fleet.instances.get(row["instance_id"]) if row["instance_id"] else None
            h = hosts[row["host_key"]] = {
                "host_key": row["host_key"],
                "containers": 0,
                "invocations": 0,
                "cpu_model": c.cpu_model,
                "cpu_mhz": c.cpu_mhz,
                "bogomips": c.bogomips,
                "first_seen": c.first_seen,
                # Where the host is an EC2 instance (Managed Instances): its id and type (the
                # probe's DMI read), its AZ and lifecycle (the capacity provider's system log;
                # None where that log has not named it: unknown, never guessed).
                "instance_id": row["instance_id"],
                "instance_type": row["instance_type"],
                "availability_zone": row["availability_zone"],
                "launched_at": iso(inst.launched_at) if inst is not None else None,
                "terminated_at": iso(inst.terminated_at) if inst is not None else None,
                "host_evidence": row["host_evidence"],
                "_evidence": set(),
            }
        h["containers"] += 1
        h["invocations"] += c.invocations
        h["first_seen"] = min(h["first_seen"], c.first_seen)
        h["_evidence"].add(row["host_evidence"])
    host_list = sorted(hosts.values(), key=lambda h: h["first_seen"])  # order of first appearance
    for h in host_list:
        h["first_seen"] = iso(h["first_seen"])
        # One host keyed by hostname may hold environments placed by different evidence.
        h["host_evidence"] = " | ".join(sorted(e for e in h.pop("_evidence") if e))
    counters = fleet.counters
    serving = [r for r in rows if r["invocations"] > 0]
    doc = {
        "source": source,
        "generated_at": iso(now),
        "started_at": iso(story.t0 if story.t0 is not None else fleet.started_at),
        "bucket_s": _bucket_s(fleet),
        "totals": {
            "requests": counters.requests,
            "invocations": counters.invocations,
            "containers": len(fleet.containers),
            "serving": len(serving),
            "cold_starts": sum(r["cold_starts"] for r in serving),
            "pre_initialized": sum(1 for r in rows if r["pre_initialized"]),
            "retired": len(story.retired),
            "errors": counters.errors,
            "throttled": counters.throttled,
            "unconfirmed": sum(c.unconfirmed for c in ordered),
            "unplaced_responses": getattr(fleet, "unplaced", 0),  # SnapStart answers the logs never tied
            "malformed_lines": counters.malformed,
            "logs_dropped": counters.logs_dropped,
            "log_lag_s": counters.log_lag_s,
            # Response → log confirmation, over every invocation both channels reported (sampled).
            "log_lag_p50_s": rounded(percentile(getattr(fleet, "log_lags", []), 50)),
            "log_lag_p99_s": rounded(percentile(getattr(fleet, "log_lags", []), 99)),
            "instances": len(fleet.instances),
            "system_log_records": counters.system_records,
            "system_log_unknown_events": counters.system_unknown,
            "system_log_malformed": counters.system_malformed,
        },
        "containers": rows,
        "hosts": host_list,
        "instances": instance_rows(fleet),
        "findings": story.findings,
        "load": load or {},
    }
    if extra:
        doc.update(extra)
    return doc


def instance_rows(fleet: Fleet) -> list[dict]:
    """Every EC2 instance the capacity provider's system log named, in order of first record:
    its lifecycle as the log tells it (times None where no record said)."""
    out = []
    for inst in sorted(fleet.instances.values(), key=lambda i: i.up_from):
        out.append(
            {
                "instance_id": inst.instance_id,
                "instance_type": inst.instance_type,
                "availability_zone": inst.availability_zone,
                "state": inst.state,
                "launching_at": iso(inst.launching_at),
                "launched_at": iso(inst.launched_at),
                "terminating_at": iso(inst.terminating_at),
                "terminated_at": iso(inst.terminated_at),
                "last_event": inst.last_event,
                "events": inst.events,
                "failures": dict(inst.failures),
                "evidence": "system log",
            }
        )
    return out


def _bucket_s(fleet: Fleet) -> float:
    return fleet.bucket_s


MAX_TIMELINE_ROWS = 200_000  # a bounded export: beyond this, timeline.csv's buckets are merged


def lanes(fleet: Fleet, now: float) -> tuple[dict[str, list[tuple[float, int]]], float]:
    """Per container, its non-empty buckets over the whole run as (bucket start epoch s,
    invocations), and the bucket width. Each lane is read over its own span only; when the
    lanes would hold more than MAX_TIMELINE_ROWS buckets, `per` model buckets are merged into one
    (a power of two, so the sums stay exact and every row still adds up)."""
    spans = []
    for cid, c in fleet.containers.items():
        first, last = c.first_invoked, c.last_invoked
        if c.invocations and first is not None and last is not None:
            a, b = fleet.bucket_of(first), fleet.bucket_of(last)
            spans.append((cid, c, min(a, b), max(a, b)))
    per = 1
    while sum((b - a) // per + 1 for _, _, a, b in spans) > MAX_TIMELINE_ROWS and per < (1 << 20):
        per *= 2
    out = {}
    for cid, c, a, b in spans:
        a -= a % per
        n = (b - a) // per + 1
        counts = c.timeline.counts(a, n, per)
        out[cid] = [(fleet.bucket_start(a + k * per), v) for k, v in enumerate(counts) if v]
    return out, fleet.bucket_s * per


def timeline_rows(
    doc: dict, lanes_of: dict[str, list[tuple[float, int]]], t0: float | None, width: float | None = None
) -> list[dict]:
    """The tidy timeline: one row per container and non-empty bucket (empty buckets are left
    out: a sum or a pivot treats them as 0), containers in the document's order. `t_s` counts
    from the run's first event, `t0` (the document's `started_at`); `bucket_s` is the rows'
    bucket width (the model's, or wider for a very large run: see `lanes`)."""
    width = width or doc.get("bucket_s")
    out = []
    stamp: dict[float, str | None] = {}  # one ISO string per bucket start, not per row
    for r in doc["containers"]:
        cid, host, wave = r["container_id"], r["host_key"], r["wave"]
        for start, n in lanes_of.get(cid, ()):
            iso_start = stamp.get(start)
            if iso_start is None:
                iso_start = stamp[start] = iso(start)
            out.append(
                {
                    "container_id": cid,
                    "host_key": host,
                    "wave": wave,
                    "bucket_start": iso_start,
                    "t_s": None if t0 is None else round(start - t0, 3),
                    "bucket_s": width,
                    "invocations": n,
                }
            )
    return out


@dataclass
class Bundle:
    """Everything an export folder holds, taken from the fleet in one go (on the thread that owns
    the fleet); writing it and drawing its figures need no fleet, so they can run elsewhere."""

    doc: dict
    timeline: list[dict]
    latency: dict = field(default_factory=dict)  # {"cold_ms": [...], "warm_ms": [...]}, when known

    def files(self) -> dict[str, str]:
        return {
            "snapshot.json": to_json(self.doc),
            "containers.csv": to_csv(self.doc),
            "timeline.csv": timeline_csv(self.timeline),
        }


def build(
    fleet: Fleet,
    *,
    now: float,
    source: dict,
    load: dict | None = None,
    host_key: str = "hostname",
    sort: str = "first",
    extra: dict | None = None,
    story: findings.Story | None = None,
) -> Bundle:
    story = story or findings.tell(fleet, now, host_key=host_key)
    doc = snapshot(fleet, now=now, source=source, load=load, host_key=host_key, sort=sort, extra=extra, story=story)
    t0 = story.t0 if story.t0 is not None else fleet.started_at
    lat = latency_samples(fleet)
    latency = {"cold_ms": lat[0], "warm_ms": lat[1]} if lat else {}
    lanes_of, width = lanes(fleet, now)
    _idle_gaps(doc, lanes_of, width)
    return Bundle(doc, timeline_rows(doc, lanes_of, t0, width), latency)


def _idle_gaps(doc: dict, lanes_of: dict, width: float) -> None:
    """The `lifetime` finding's idle gaps, from the whole-run lanes: too dear for every redraw,
    cheap once per export. A gap is the quiet between two buckets in which a container served
    (a lower bound, to one bucket)."""
    life = next((f for f in doc["findings"] if f["kind"] == "lifetime"), None)
    if life is None:
        return
    longest, who = 0.0, None
    per_container = []
    for cid, pts in lanes_of.items():
        gap = max((b[0] - a[0] - width for a, b in zip(pts, pts[1:])), default=0.0)
        if gap > 0:
            per_container.append(gap)
        if gap > longest:
            longest, who = gap, cid
    life["idle_gap_s_max"] = round(longest, 3)
    life["idle_gap_s_p50"] = rounded(findings.percentile(per_container, 50))
    life["evidence"]["longest_idle"] = who
    if longest >= max(1.0, 2 * width):
        life["text"] += f"; the longest idle gap before serving again {longest:.1f} s"


def _epoch(s: str | None) -> float | None:
    if not s:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2) + "\n"


def to_csv(doc: dict) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CONTAINER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in doc["containers"]:
        writer.writerow(row)
    return buf.getvalue()


def to_table(doc: dict) -> str:
    """The blog's table, one row per serving container, plus the identity columns it added later
    and the wave and state the story gives; then the totals and the findings, one line each."""
    cols = [
        ("container-id", "container_id", 0),
        ("invocations", "invocations", 1),
        ("cold", "cold_starts", 1),
        ("init ms", "init_duration_ms", 1),
        ("wave", "wave", 1),
        ("state", "state", 0),
        ("hostname", "hostname", 0),
        ("cpu model", "cpu_model", 0),
    ]
    # Managed Instances: the EC2 instance and its AZ, when any environment has one; a host placed
    # by a guess is marked `?` (the JSON's host_evidence says which evidence placed it).
    ec2 = any(r.get("instance_id") for r in doc["containers"])
    # Function errors per environment (REPORT Status error/timeout, a crash), when there were any.
    errs = any(r.get("errors") for r in doc["containers"])
    if errs:
        cols.insert(2, ("errors", "errors", 1))
    if ec2:
        cols += [("instance", "instance_id", 0), ("az", "availability_zone", 0)]
    rows = []
    for r in doc["containers"]:
        if r.get("pre_initialized"):
            continue  # counted below, not a row: it served nothing and has no host
        cid = r["container_id"]
        short = cid.rsplit("]", 1)[-1] if "]" in cid else cid
        init = r["init_duration_ms"]
        wave = r.get("wave")
        rows.append(
            [
                short,
                str(r["invocations"]),
                *([str(r.get("errors") or 0)] if errs else []),
                str(r["cold_starts"]),
                "" if init is None else f"{init:.1f}",
                "" if wave is None else str(wave + 1),
                r.get("state") or "",
                r["hostname"] or _no_host(r),
                r["cpu_model"] or _no_host(r),
            ]
            + (
                [
                    (r.get("instance_id") or "") + ("?" if "guess" in (r.get("host_evidence") or "") else ""),
                    r.get("availability_zone") or "",
                ]
                if ec2
                else []
            )
        )
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, (h, _, _) in enumerate(cols)]

    def fmt(values):
        return "  ".join(
            v.rjust(w) if right else v.ljust(w) for v, w, (_, _, right) in zip(values, widths, cols)
        ).rstrip()

    t = doc["totals"]
    lines = [fmt([h for h, _, _ in cols])]
    lines += [fmt(row) for row in rows]
    lines.append("")
    total = (
        f"{t.get('serving', t['containers'])} containers, {t['invocations']} invocations, "
        f"{t['cold_starts']} cold starts, {t['errors']} errors, {t.get('throttled', 0)} throttled"
    )
    if t.get("pre_initialized"):
        n = t["pre_initialized"]
        total += f"; {n} pre-initialised environment{'s' if n != 1 else ''} (never invoked)"
    lines.append(total)
    if doc.get("instances"):
        lines.append(_instances_line(doc["instances"]))
    story = _story_lines(doc.get("findings", ()))
    if story:
        lines.append("")
        lines.append("findings:")
        lines += [f"  {text}" for text in story]
    return "\n".join(lines) + "\n"


def _instances_line(instances: list[dict]) -> str:
    """'3 EC2 instances in the system log (us-east-1a, us-east-1b, us-east-1c): 3 running'."""
    zones = sorted({i["availability_zone"] for i in instances if i.get("availability_zone")})
    states: dict[str, int] = {}
    for i in instances:
        states[i["state"]] = states.get(i["state"], 0) + 1
    where = f" ({', '.join(zones)})" if zones else ""
    told = ", ".join(f"{n} {state}" for state, n in states.items())
    return f"{len(instances)} EC2 instance{'s' if len(instances) != 1 else ''} in the system log{where}: {told}"


def _story_lines(found, max_waves: int = 8) -> list[str]:
    """The findings' texts; a long run of waves (a trickle of starts) is cut to its first ones."""
    waves = [f for f in found if f["kind"] == "wave"]
    out = []
    for f in found:
        if f["kind"] == "wave" and len(waves) > max_waves and f["index"] >= max_waves - 2:
            if f["index"] == max_waves - 2:
                rest = waves[max_waves - 2 :]
                out.append(
                    f"… and {len(rest)} more waves of {', '.join(str(w['size']) for w in rest[:12])}"
                    f"{', …' if len(rest) > 12 else ''} environments (all in --format json)"
                )
            continue
        out.append(f["text"])
    return out


def render(doc: dict, fmt: str) -> str:
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return to_csv(doc)
    return to_table(doc)


def timeline_csv(rows: list[dict]) -> str:
    """`timeline_rows` as CSV: `pandas.read_csv(f, parse_dates=["bucket_start"])` loads it;
    `df.pivot_table(index="t_s", columns="container_id", values="invocations").plot()` plots it."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TIMELINE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()
