"""What each stage of a ramp plan achieved, from the response channel: the figures that show a
`run --plan` did what its stages said.

Pure. Outcomes are binned by send time (BIN_S) as they come, so memory grows with the run's
length, not its request count; when the run ends, each stage's windows (from
`loadgen.steering.Steering.stage_windows`: a held or skipped stage has several, or none) sum their
bins. Concurrency is Little's law over the window: the busy time of all requests divided by the
window's length, which for a closed loop at N reads N whatever the latency.
"""

BIN_S = 0.1


class StageTally:
    """Bins by absolute send time (epoch seconds / BIN_S): the plan's start is only known once
    the load really starts, and `stages` is told it."""

    def __init__(self) -> None:
        # bin -> [requests, answered, throttled, errors, busy seconds]
        self._bins: dict[int, list] = {}
        self._first_bin: dict[str, int] = {}  # container id -> bin of its first answer

    def add(self, outcomes) -> None:
        for o in outcomes:
            b = int(o.sent_at // BIN_S)
            row = self._bins.get(b)
            if row is None:
                row = self._bins[b] = [0, 0, 0, 0, 0.0]
            row[0] += 1
            if o.error is None:
                row[1] += 1
                if o.container_id and o.container_id not in self._first_bin:
                    self._first_bin[o.container_id] = b
            elif o.error == "throttled":
                row[2] += 1
            else:
                row[3] += 1
            row[4] += (o.latency_ms or 0.0) / 1000.0

    def stages(self, windows: list[dict], started_at: float) -> list[dict]:
        """One row per stage that ran: its text, seconds, requests, achieved rate and
        concurrency, throttles, errors and new environments."""
        per: dict[int, dict] = {}
        new_by_bin: dict[int, int] = {}
        for b in self._first_bin.values():
            new_by_bin[b] = new_by_bin.get(b, 0) + 1
        for w in windows:
            row = per.setdefault(
                w["stage"],
                {
                    "stage": w["stage"] + 1,
                    "text": w["text"],
                    "seconds": 0.0,
                    "requests": 0,
                    "throttled": 0,
                    "errors": 0,
                    "busy_s": 0.0,
                    "new_environments": 0,
                },
            )
            lo = int((started_at + w["from_s"]) // BIN_S)
            hi = int((started_at + w["to_s"]) // BIN_S)
            if w["from_s"] <= 0 and self._bins:
                lo = min(lo, min(self._bins))  # sent as the plan's clock started: the first stage's
            row["seconds"] += w["to_s"] - w["from_s"]
            for b in range(lo, hi):
                r = self._bins.get(b)
                if r is not None:
                    row["requests"] += r[0]
                    row["throttled"] += r[2]
                    row["errors"] += r[3]
                    row["busy_s"] += r[4]
                row["new_environments"] += new_by_bin.get(b, 0)
        out = []
        for i in sorted(per):
            row = per[i]
            secs = row.pop("seconds")
            busy = row.pop("busy_s")
            row["seconds"] = round(secs, 2)
            row["rate"] = round(row["requests"] / secs, 1) if secs > 0 else None
            row["concurrency"] = round(busy / secs, 2) if secs > 0 else None
            out.append(row)
        return out
