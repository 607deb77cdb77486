"""Cold starts, and environments initialised ahead of any request (pre-initialised).

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""

from tui.core.findings.common import fmt_ms, fmt_s, latency_samples, n_note, percentile, rounded


def find(M, fleet, serving):
    inits = [c.init_duration_ms if c.init_duration_ms is not None else c.restore_duration_ms for c in serving]
    inits = sorted(v for v in inits if v is not None)
    cold = [c for c in serving if c.container_id in M.paid]
    lat = latency_samples(fleet)
    if not cold and not inits and not (lat and (lat[0] or lat[1])):
        return []
    p50, p99 = percentile(inits, 50, is_sorted=True), percentile(inits, 99, is_sorted=True)
    n = len(cold)
    text = (
        f"{n} cold start{'s' if n != 1 else ''}, one per serving container"
        if n == len(serving) and n
        else f"{n} cold start{'s' if n != 1 else ''} in {len(serving)} serving containers"
    )
    restores = sum(1 for c in cold if c.cold_kind == "restore")
    if restores:
        # SnapStart: a restore from the snapshot, not an init (its REPORT says Restore Duration).
        text += " (SnapStart restores, not inits)" if restores == n else f" ({restores} of them SnapStart restores)"
    if inits:
        has_init = any(c.init_duration_ms is not None for c in serving)
        has_restore = any(c.init_duration_ms is None and c.restore_duration_ms is not None for c in serving)
        name = (
            "Init/Restore Duration"
            if has_init and has_restore
            else "Restore Duration"
            if has_restore
            else "Init Duration"
        )
        text += f"; {name} p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)}{n_note(len(inits))}"
    f = {
        "kind": "cold_start",
        "text": "",
        "count": n,
        "serving": len(serving),
        "init_ms_p50": rounded(p50, 2),
        "init_ms_p99": rounded(p99, 2),
        "init_samples": len(inits),
        "restores": restores,
        "cold_latency_ms_p50": None,
        "cold_latency_ms_p99": None,
        "warm_latency_ms_p50": None,
        "warm_latency_ms_p99": None,
        "evidence": {"container_ids": [c.container_id for c in cold][:50]},
    }
    if lat:
        cold_ms, warm_ms = lat
        f.update(
            cold_latency_ms_p50=rounded(percentile(cold_ms, 50), 2),
            cold_latency_ms_p99=rounded(percentile(cold_ms, 99), 2),
            warm_latency_ms_p50=rounded(percentile(warm_ms, 50), 2),
            warm_latency_ms_p99=rounded(percentile(warm_ms, 99), 2),
        )
        parts = [
            f"{kind} p50 {fmt_ms(f[f'{kind}_latency_ms_p50'])} / p99 {fmt_ms(f[f'{kind}_latency_ms_p99'])}"
            f"{n_note(len(samples))}"
            for kind, samples in (("cold", cold_ms), ("warm", warm_ms))
            if samples
        ]
        if parts:
            text += "; response latency " + ", ".join(parts)
    f["text"] = text
    return [f]


def find_pre_initialized(M, rows, t0):
    pre = [(s, c) for s, c in rows if c.container_id in M.pre]
    if not pre:
        return []
    n = len(pre)
    text = (
        f"{n} environment{'s' if n != 1 else ''} initialised and never invoked "
        f"(pre-initialised: not cold starts, no host known), from {fmt_s(pre[0][0] - t0)}"
    )
    return [
        {
            "kind": "pre_initialized",
            "text": text,
            "count": n,
            "container_ids": [c.container_id for _, c in pre],
            "first_at_s": rounded(pre[0][0] - t0),
            "evidence": {
                "container_ids": [c.container_id for _, c in pre],
                "init_s": [rounded(s - t0) for s, _ in pre],
            },
        }
    ]
