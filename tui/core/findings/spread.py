"""The spread: how evenly the serving containers shared the invocations.

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""

from tui.core.findings.common import gini


def find(serving):
    counts = [c.invocations for c in serving]
    total = sum(counts)
    if len(counts) < 2 or total == 0:
        return []
    hi = serving[max(range(len(counts)), key=counts.__getitem__)]  # the first of the busiest, by start
    lo = serving[min(range(len(counts)), key=counts.__getitem__)]
    g = gini(counts)
    even = total / len(counts)
    ratio = hi.invocations / lo.invocations if lo.invocations else None
    word = "uneven" if g >= 0.15 else "even"
    text = (
        f"{word} spread over {len(counts)} containers: the busiest served {hi.invocations / total:.1%} of "
        f"{total:,} invocations (an even split: {1 / len(counts):.1%}, {even:,.0f} each); "
        f"max/min {'–' if ratio is None else f'{ratio:.1f}×'}; Gini {g:.2f}"
    )
    return [
        {
            "kind": "spread",
            "text": text,
            "containers": len(counts),
            "invocations": total,
            "largest_share": round(hi.invocations / total, 4),
            "even_share": round(1 / len(counts), 4),
            "even_invocations": round(even, 1),
            "max": hi.invocations,
            "min": lo.invocations,
            "max_over_min": None if ratio is None else round(ratio, 2),
            "gini": round(g, 4),
            "evidence": {"busiest": hi.container_id, "quietest": lo.container_id},
        }
    ]
