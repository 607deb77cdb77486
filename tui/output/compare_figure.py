"""The comparison figure: each run's containers as lanes, one run above the other, one time axis.

Drawn from snapshot documents alone, so any two snapshots compare: a lane runs from a
container's first to its last invocation (a snapshot keeps those, not every bucket), sorted by
first request and coloured by host; waves are dashed lines, retirements crosses. matplotlib is
imported here, inside `draw`, with the Agg backend: nothing on the monitor's path pays for it.
"""

import io
from datetime import datetime

from tui.core.palette import PALETTE  # hosts in order of first appearance, as on screen


def _t(iso: str | None) -> float | None:
    if not isinstance(iso, str):
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def lanes(doc: dict) -> tuple[float, list[tuple[float, float, str]]]:
    """(run start, [(first s, last s, host key)]) for serving containers, sorted by first request."""
    rows = [r for r in doc.get("containers") or [] if isinstance(r, dict) and (r.get("invocations") or 0) > 0]
    spans = []
    for r in rows:
        first, last = _t(r.get("first_invoked") or r.get("first_seen")), _t(r.get("last_invoked") or r.get("last_seen"))
        if first is not None and last is not None:
            spans.append((first, max(first, last), str(r.get("host_key") or "?")))
    spans.sort()
    start = _t(doc.get("started_at"))
    if start is None:
        start = spans[0][0] if spans else 0.0
    return start, [(a - start, b - start, h) for a, b, h in spans]


def draw(names: list[str], docs: list[dict]) -> dict[str, bytes]:
    """{"compare.png": …, "compare.svg": …}."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    data = [lanes(d) for d in docs]
    hosts: dict[str, str] = {}
    for _, spans in data:
        for _, _, h in spans:
            hosts.setdefault(h, PALETTE[len(hosts) % len(PALETTE)])
    heights = [max(1.2, min(6.0, 0.08 * len(spans) + 1.0)) for _, spans in data]
    fig, axes = plt.subplots(
        len(docs),
        1,
        sharex=True,
        figsize=(11, sum(heights) + 1.0),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, name, doc, (_, spans) in zip(axes[:, 0], names, docs, data):
        for i, (a, b, h) in enumerate(spans):
            ax.plot([a, b if b > a else a + 0.02], [i, i], color=hosts[h], linewidth=2.2, solid_capstyle="butt")
        for f in doc.get("findings") or []:
            at = f.get("at_s") if isinstance(f, dict) else None
            if not isinstance(at, (int, float)):
                continue
            if f.get("kind") == "wave":
                ax.axvline(at, color="#555555", linestyle="--", linewidth=0.8)
            elif f.get("kind") == "retirement":
                ax.axvline(at, color="#c0392b", linestyle=":", linewidth=1.0)
        waves = [
            str(f.get("size")) for f in doc.get("findings") or [] if isinstance(f, dict) and f.get("kind") == "wave"
        ]
        src = doc.get("source") or {}
        profile = src.get("profile")
        title = f"{name}" + (f" · profile {profile}" if profile else "")
        title += f" · {len(spans)} containers" + (f" · waves {', '.join(waves)}" if waves else "")
        if src.get("simulated_hosts") or src.get("kind") == "local":
            title += " · simulated hosts"
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel("container\n(by first request)", fontsize=8)
        ax.set_ylim(len(spans) - 0.5 if spans else 0.5, -0.5)
        ax.set_yticks([])
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes[-1, 0].set_xlabel(
        "seconds since the run's first request (lane: first to last invocation; dashed: wave; dotted: retirement)"
    )
    handles = [plt.Line2D([0], [0], color=c, linewidth=4) for c in hosts.values()]
    if handles:
        fig.legend(
            handles,
            list(hosts),
            title="host",
            loc="upper right",
            fontsize=8,
            title_fontsize=8,
            ncol=min(4, len(handles)),
        )
    fig.suptitle("lambdascope compare: containers over time, run by run", x=0.01, ha="left", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    out = {}
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=110)
        out[f"compare.{ext}"] = buf.getvalue()
    plt.close(fig)
    return out
