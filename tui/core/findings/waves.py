"""Waves: environments that started together, split where a gap is large for its neighbours.

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""

from tui.core.findings.common import fleet_count, fmt_s, hosts_text, rounded, split_by_gaps


def find(M, fleet, rows, t0, host_of, host_order):
    times = [s for s, _ in rows]
    waves, wave_of = [], {}
    prev_at = None
    for i, (lo, hi) in enumerate(split_by_gaps(times)):
        members = [c for _, c in rows[lo:hi]]
        served = [c for c in members if c.invocations > 0]
        pre = [c for c in members if c.container_id in M.pre]
        hosts = {host_of[c.container_id] for c in served} - {""}
        keys = [h for h in host_order if h in hosts]
        at = times[lo]
        throttled = fleet_count(fleet, "throttles", prev_at, at)
        prev_at = at
        ids = [c.container_id for c in members]
        wave_of.update(dict.fromkeys(ids, i))
        text = f"wave {i + 1}: {len(members)} environment{'s' if len(members) != 1 else ''} started at {fmt_s(at - t0)}"
        if hi - lo > 1 and times[hi - 1] - at >= 0.05:
            text += f" (over {times[hi - 1] - at:.2f} s)"
        text += f" {hosts_text(keys)}"
        extra = []
        if pre:
            extra.append(f"{len(served)} served, {len(pre)} never invoked")
        if throttled:
            extra.append(f"after {throttled:,} throttled request{'s' if throttled != 1 else ''}")
        if extra:
            text += "; " + "; ".join(extra)
        waves.append(
            {
                "kind": "wave",
                "text": text,
                "index": i,
                "size": len(members),
                "serving": len(served),
                "pre_initialized": len(pre),
                "at_s": rounded(at - t0),
                "span_s": rounded(times[hi - 1] - at),
                "host_keys": keys,
                "throttled_before": throttled,
                "throttles_before": None if throttled is None else throttled > 0,
                "evidence": {
                    "container_ids": ids,
                    "first_start_s": rounded(at - t0),
                    "last_start_s": rounded(times[hi - 1] - t0),
                },
            }
        )
    return waves, wave_of
