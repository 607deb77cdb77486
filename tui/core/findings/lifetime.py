"""Lifetimes: how long environments lived, when the run is long enough to see some end.

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""

from tui.core.findings.common import percentile, rounded

# Lifetimes are a finding only when the run is long enough to have seen some end.
LIFETIME_MIN_RUN_S = 60.0


def find(M, serving, now, t0, retired):
    if not serving:
        return []
    run_s = now - t0
    if run_s < LIFETIME_MIN_RUN_S and not retired:
        return []
    ended = [(M.last[c.container_id] - M.start[c.container_id]) for c in serving if c.container_id in retired]
    alive = [(M.last[c.container_id] - M.start[c.container_id]) for c in serving if c.container_id not in retired]
    spans = ended + alive
    p50 = percentile(spans, 50)
    text = f"serving lifetimes p50 {p50:.1f} s, longest {max(spans):.1f} s over a {run_s:.1f} s run"
    if ended:
        text += f"; retired ones served {min(ended):.1f}–{max(ended):.1f} s"
    return [
        {
            "kind": "lifetime",
            "text": text,
            "run_s": rounded(run_s),
            "lifetime_s_p50": rounded(p50),
            "lifetime_s_max": rounded(max(spans)),
            "retired_lifetime_s_min": rounded(min(ended)) if ended else None,
            "retired_lifetime_s_max": rounded(max(ended)) if ended else None,
            "evidence": {"containers": len(spans), "retired": len(ended)},
        }
    ]
