"""The snapshot document (DESIGN.md "Snapshot / --format json"), its CSV and table forms, and
atomic writes. No network, no Textual: `run`, `analyze` and the app's `s` key all come here.
"""

import csv
import io
import json
import os
import tempfile
from datetime import datetime, timezone

from tui.errors import mask
from tui.fleet import Container, Fleet

CONTAINER_COLUMNS = [
    "container_id", "invocations", "cold_starts", "hostname", "cpu_model", "first_seen",
    "last_seen", "init_duration_ms", "host_key", "cohort", "state", "boot_id", "cpu_mhz",
    "bogomips", "confirmed", "errors", "max_memory_mb", "cold_signals_disagree",
]


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def container_row(fleet: Fleet, c: Container, now: float, host_key: str) -> dict:
    return {
        "container_id": c.container_id,
        "invocations": c.invocations,
        "cold_starts": c.cold_starts,
        "hostname": c.hostname,
        "cpu_model": c.cpu_model,
        "first_seen": iso(c.first_seen),
        "last_seen": iso(c.last_seen),
        "init_duration_ms": c.init_duration_ms if c.init_duration_ms is not None else c.restore_duration_ms,
        "host_key": c.host_key(host_key),
        "cohort": c.cohort,
        "state": fleet.state(c, now),
        "boot_id": c.boot_id,
        "cpu_mhz": c.cpu_mhz,
        "bogomips": c.bogomips,
        "confirmed": c.confirmed,
        "errors": c.errors,
        "max_memory_mb": c.max_memory_mb,
        "cold_signals_disagree": c.cold_signals_disagree,
    }


def snapshot(fleet: Fleet, *, now: float, source: dict, load: dict | None = None,
             host_key: str = "hostname", sort: str = "first", extra: dict | None = None) -> dict:
    """The whole document: what a user saw, as data."""
    ordered = fleet.ordered(sort)
    rows = [container_row(fleet, c, now, host_key) for c in ordered]
    hosts: dict[str, dict] = {}
    cohorts: dict[int, dict] = {}
    for c, row in zip(ordered, rows):
        h = hosts.setdefault(row["host_key"], {"host_key": row["host_key"], "containers": 0, "invocations": 0,
                                               "cpu_model": c.cpu_model})
        h["containers"] += 1
        h["invocations"] += c.invocations
        k = cohorts.setdefault(c.cohort, {"cohort": c.cohort, "containers": 0, "first_seen": c.first_seen,
                                          "last_seen": c.last_seen})
        k["containers"] += 1
        k["first_seen"] = min(k["first_seen"], c.first_seen)
        k["last_seen"] = max(k["last_seen"], c.last_seen)
    for k in cohorts.values():
        k["first_seen"], k["last_seen"] = iso(k["first_seen"]), iso(k["last_seen"])
    counters = fleet.counters
    doc = {
        "source": source,
        "generated_at": iso(now),
        "totals": {
            "requests": counters.requests,
            "invocations": counters.invocations,
            "containers": len(fleet.containers),
            "cold_starts": fleet.cold_starts,
            "errors": counters.errors,
            "throttled": counters.throttled,
            "unconfirmed": sum(c.unconfirmed for c in ordered),
            "malformed_lines": counters.malformed,
            "log_lag_s": counters.log_lag_s,
        },
        "containers": rows,
        "hosts": list(hosts.values()),
        "cohorts": [cohorts[k] for k in sorted(cohorts)],
        "load": load or {},
    }
    if extra:
        doc.update(extra)
    return doc


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
    """The blog's table, one row per container, plus the identity columns it added later."""
    cols = [("container-id", "container_id", 0), ("invocations", "invocations", 1), ("cold", "cold_starts", 1),
            ("init ms", "init_duration_ms", 1), ("hostname", "hostname", 0), ("cpu model", "cpu_model", 0)]
    rows = []
    for r in doc["containers"]:
        cid = r["container_id"]
        short = cid.rsplit("]", 1)[-1] if "]" in cid else cid
        init = r["init_duration_ms"]
        rows.append([short, str(r["invocations"]), str(r["cold_starts"]),
                     "" if init is None else f"{init:.1f}", r["hostname"] or "", r["cpu_model"] or ""])
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, (h, _, _) in enumerate(cols)]

    def fmt(values):
        return "  ".join(v.rjust(w) if right else v.ljust(w)
                         for v, w, (_, _, right) in zip(values, widths, cols)).rstrip()

    t = doc["totals"]
    lines = [fmt([h for h, _, _ in cols])]
    lines += [fmt(row) for row in rows]
    lines.append("")
    lines.append(f"{t['containers']} containers, {t['invocations']} invocations, {t['cold_starts']} cold starts, "
                 f"{t['errors']} errors, {t.get('throttled', 0)} throttled")
    return "\n".join(lines) + "\n"


def render(doc: dict, fmt: str) -> str:
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return to_csv(doc)
    return to_table(doc)


def write_atomic(path: str, data: str | bytes) -> None:
    """Write via a temp file and rename: a reader never sees half a file, a crash leaves none."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            # Masked: error texts and log content in an export may quote a credential.
            fh.write(mask(data).encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def snapshot_folder(base_dir: str, now: float) -> str:
    """Create a new folder under `base_dir` named for `now` (UTC); never reuse an existing one."""
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path, n = os.path.join(base_dir, stamp), 1
    while True:
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            n += 1
            path = os.path.join(base_dir, f"{stamp}-{n}")


def write_snapshot(base_dir: str, now: float, files: dict[str, str | bytes]) -> tuple[str, list[str]]:
    """The TUI's `s` key: every file of one snapshot, atomically, into a new timestamped folder."""
    folder = snapshot_folder(base_dir, now)
    for name, data in files.items():
        write_atomic(os.path.join(folder, name), data)
    return folder, list(files)


def timeline_csv(fleet: Fleet, now: float, *, host_key: str = "hostname", sort: str = "first") -> str:
    """The timeline's figures: invocations per bucket per container, one row per container in
    `sort` order, one column per bucket from the run's start (or as far back as the ring holds)
    to `now`, headed by each bucket's start time (epoch seconds)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    last = int(now // fleet.bucket_s)
    first = last - fleet.timeline_buckets + 1
    if fleet.started_at is not None:
        first = max(first, int(fleet.started_at // fleet.bucket_s))
    n = max(0, last - first + 1)
    writer.writerow(["container_id", "host_key"] + [f"{(first + i) * fleet.bucket_s:g}" for i in range(n)])
    for c in fleet.ordered(sort):
        writer.writerow([c.container_id, c.host_key(host_key)] + c.timeline.window(last, n))
    return buf.getvalue()
