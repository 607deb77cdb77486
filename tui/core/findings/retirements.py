"""Retirements: environments that stopped serving while the load went on, and why.

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""

from bisect import bisect_right

from tui.core.findings.common import fmt_s, hosts_text, rounded, split_by_gaps

# A container has "stopped serving" once it has been quiet for RETIRE_FACTOR times its own usual
# gap between invocations (at least RETIRE_MIN_QUIET_S): a container serving every 30 ms that has
# been quiet for 1 s while others served has stopped; one serving once a minute has not.
RETIRE_FACTOR = 10.0
RETIRE_MIN_QUIET_S = 1.0
# ... and it is "retired" only if the load went on: someone else served after that quiet spell,
# within RESUME_WINDOW_FACTOR quiet spells (a load that paused for minutes and came back is not
# a retirement; those containers idled and may be reclaimed, which is `gone`); and only with
# evidence that it will not serve again: its whole host (two containers or more) went quiet
# together, or a new environment started after it went quiet. (A spare environment that
# most-recently-used routing leaves alone is idle, not retired.)
RESUME_WINDOW_FACTOR = 10.0


def find(M, fleet, serving, now, t0, host_of, host_order):
    if len(serving) < 2:
        return {}, []
    last_of, first_of = M.last, M.first
    quiet_ones = [c for c in serving if now - last_of[c.container_id] > RETIRE_MIN_QUIET_S]
    if not quiet_ones:
        return {}, []  # the common case while everything serves: nothing more to look at
    spans = sorted(zip(last_of.values(), first_of.values()))  # (last, first), by last
    lasts = [r[0] for r in spans]
    # suffix_min_first[i]: the earliest first invocation among containers whose last is >= lasts[i]
    suffix_min_first = [0.0] * len(spans)
    m = float("inf")
    for i in range(len(spans) - 1, -1, -1):
        f = spans[i][1]
        if f < m:
            m = f
        suffix_min_first[i] = m
    typical_gap = None  # the fleet's usual gap, for containers with one invocation (lazily)
    floor_gap = RETIRE_MIN_QUIET_S / RETIRE_FACTOR

    def quiet_for(c) -> float:
        """How long `c` must be quiet to have stopped: RETIRE_FACTOR times its own usual gap."""
        nonlocal typical_gap
        cid, inv = c.container_id, c.invocations
        last, first = last_of[cid], first_of[cid]
        if inv > 1 and last > first:
            own = (last - first) / (inv - 1)
        else:
            if typical_gap is None:
                gaps = sorted(
                    (end - start) / (x.invocations - 1)
                    for x in serving
                    if x.invocations > 1 and (end := last_of[x.container_id]) > (start := first_of[x.container_id])
                )
                typical_gap = gaps[len(gaps) // 2] if gaps else floor_gap
            own = typical_gap
        return RETIRE_FACTOR * own if own > floor_gap else RETIRE_MIN_QUIET_S

    stopped = []  # (last, container)
    n_spans = len(spans)
    for c in quiet_ones:
        last = last_of[c.container_id]
        quiet = quiet_for(c)
        if now - last <= quiet:
            continue
        j = bisect_right(lasts, last + quiet)  # containers still serving after the quiet spell ...
        if j < n_spans and suffix_min_first[j] <= last + quiet * RESUME_WINDOW_FACTOR:  # ... begun by then
            stopped.append((last, c))
    if not stopped:
        return {}, []

    serving_per_host: dict[str, int] = {}
    for c in serving:
        h = host_of[c.container_id]
        serving_per_host[h] = serving_per_host.get(h, 0) + 1
    stopped = [(t, c) for t, _, c in sorted((t, c.container_id, c) for t, c in stopped)]
    stopped_on: dict[str, list] = {}
    for _, c in stopped:
        stopped_on.setdefault(host_of[c.container_id], []).append(c)
    # Going quiet is not enough on its own: with most-recently-used routing an idle environment
    # can sit unused while the others serve. Two kinds of evidence make it a retirement:
    # - its whole host went quiet, with at least two containers, together (the blog's story);
    # - or a new environment started after it had gone quiet: the platform made a new one
    #   rather than use it.
    starts = sorted(M.start.values())

    def replaced(c) -> bool:
        last = last_of[c.container_id]
        quiet = quiet_for(c)
        k = bisect_right(starts, last + quiet)
        return k < len(starts) and starts[k] <= last + quiet * RESUME_WINDOW_FACTOR

    whole = {
        h for h, cs in stopped_on.items() if h and len(cs) == serving_per_host[h] and (len(cs) >= 2 or replaced(cs[0]))
    }
    stopped = [(t, c) for t, c in stopped if host_of[c.container_id] in whole or replaced(c)]
    if not stopped:
        return {}, []

    # A host whose every serving container stopped retired, and took them with it: one finding per
    # host (its containers' last invocations can spread over a second or more: the least used
    # ones go quiet first). The rest stopped on hosts that kept serving: grouped by time.
    groups = [(h, stopped_on[h]) for h in host_order if h in whole]
    rest = [(t, c) for t, c in stopped if host_of[c.container_id] not in whole]
    times = [t for t, _ in rest]
    groups += [(None, [c for _, c in rest[lo:hi]]) for lo, hi in split_by_gaps(times)]

    retired, findings = {}, []
    for host, group in groups:
        lasts_g = [M.last[c.container_id] for c in group]
        at, first_stop = max(lasts_g), min(lasts_g)
        hosts = {host_of[c.container_id] for c in group}
        keys = [h for h in host_order if h in hosts]
        n = len(group)
        if host is not None:
            why = (
                f"its host {host} stopped serving at {fmt_s(at - t0)} with all {n} of its containers "
                "while the load went on"
            )
            retired.update(dict.fromkeys((c.container_id for c in group), why))
            text = f"{host} retired at {fmt_s(at - t0)}: all {n} of its containers stopped serving"
            if fmt_s(first_stop - t0) != fmt_s(at - t0):
                text += f" (from {fmt_s(first_stop - t0)})"
            text += " while the load went on"
        else:
            for c in group:
                h = host_of[c.container_id]
                retired[c.container_id] = (
                    f"stopped serving at {fmt_s(M.last[c.container_id] - t0)} while the load went on"
                    + (f" ({h} kept serving)" if h else "")
                )
            text = (
                f"{n} container{'s' if n != 1 else ''} stopped serving {'together ' if n > 1 else ''}at "
                f"{fmt_s(at - t0)} {hosts_text(keys)} while the load went on and "
                f"{'their hosts' if len(keys) != 1 else 'the host'} kept serving"
            )
        findings.append(
            {
                "kind": "retirement",
                "text": text,
                "size": n,
                "at_s": rounded(at - t0),
                "first_stop_s": rounded(first_stop - t0),
                "host_keys": keys,
                "host_retired": host is not None,
                "container_ids": [c.container_id for c in group],
                "evidence": {
                    "container_ids": [c.container_id for c in group],
                    "last_invoked_s": [rounded(v - t0) for v in lasts_g],
                },
            }
        )
    findings.sort(key=lambda f: f["at_s"])
    return retired, findings
