"""A host takeover: the moment one host served nearly everything.

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""

import heapq

from tui.core.findings.common import count_after, fmt_s, rounded

# A host "took over" from the moment the other hosts served at most this share of invocations.
TAKEOVER_STRAY_SHARE = 0.02
TAKEOVER_MAX_STEPS = 8  # how many of the other hosts' latest containers to look past


def find(M, fleet, serving, now, t0, host_of, host_order):
    per_host_last: dict[str, float] = {}
    per_host_inv: dict[str, int] = {}
    for c in serving:
        h = host_of[c.container_id]
        if not h:
            continue
        t = M.last[c.container_id]
        if t > per_host_last.get(h, -1.0):
            per_host_last[h] = t
        per_host_inv[h] = per_host_inv.get(h, 0) + c.invocations
    if len(per_host_last) < 2:
        return []
    winner = max(per_host_last, key=lambda h: (per_host_last[h], per_host_inv[h]))
    mine, theirs = [], []
    for c in serving:
        (mine if host_of[c.container_id] == winner else theirs).append(c)
    last = M.last
    others = heapq.nlargest(TAKEOVER_MAX_STEPS + 1, theirs, key=lambda c: last[c.container_id])
    total = sum(c.invocations for c in serving)

    def won_after(t: float) -> int:
        # exact for containers wholly before or after t, from the timeline for those straddling it
        n = 0
        for c in mine:
            cid = c.container_id
            if M.first[cid] > t:
                n += c.invocations
            elif M.last[cid] > t:
                n += count_after(fleet, c, t, now)
        return n

    at = M.last[others[0].container_id]  # the strict moment: the other hosts' last invocation
    # A cheap estimate first (those straddling `at` pro rata): most redraws stop here.
    first = M.first
    est = 0.0
    for c in mine:
        start, end = first[c.container_id], last[c.container_id]
        if start > at:
            est += c.invocations
        elif end > at:
            est += c.invocations * (end - at) / (end - start)
    if est < 0.1 * total:
        return []  # the others stopped (nearly) at the end: nothing was taken over
    won = won_after(at)
    if won == 0 or won < 0.1 * total:
        return []
    # Step back past the latest few stragglers while the other hosts' share of what came after
    # stays under the stray share (counting their whole bucket: conservative).
    for k in range(1, min(len(others) - 1, TAKEOVER_MAX_STEPS) + 1):
        t = M.last[others[k].container_id]
        s = sum(count_after(fleet, c, t, now, own_bucket=True) for c in others[: k + 1])
        w = won_after(t)
        if s + w == 0 or s / (s + w) > TAKEOVER_STRAY_SHARE:
            break
        at, won = t, w
    stray = sum(count_after(fleet, c, at, now) for c in others)
    share = won / (won + stray)
    others_keys = [h for h in host_order if h != winner and h in per_host_last]
    text = (
        f"from {fmt_s(at - t0)} on, {winner} served {share:.0%} of invocations ({won:,} of {won + stray:,}); "
        f"{len(others_keys)} other host{'s' if len(others_keys) != 1 else ''} stopped serving"
    )
    return [
        {
            "kind": "host_takeover",
            "text": text,
            "host_key": winner,
            "at_s": rounded(at - t0),
            "share_after": round(share, 4),
            "invocations_after": won + stray,
            "share_of_run": round(per_host_inv[winner] / total, 4) if total else None,
            "evidence": {
                "other_hosts": others_keys,
                "other_hosts_last_s": {h: rounded(per_host_last[h] - t0) for h in others_keys},
            },
        }
    ]
