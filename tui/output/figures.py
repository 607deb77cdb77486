"""The blog's figures for the whole run, from an export bundle (no fleet, no screen):
    timeline     invocations over time, one lane per serving container, sorted by first request,
                 coloured by host, waves and retirements marked
    invocations  invocations per container, coloured by host, against an even split
    latency      response latency of cold and warm requests (or Init Duration per host when the
                 source carries no responses, e.g. `analyze FILE`)
each as PNG and SVG. matplotlib is imported inside `draw_all` only, with the Agg backend, so
nothing on the monitor's start-up path pays for it (tests/unit/test_figures.py checks).
"""

import io

from tui.core.findings import percentile
from tui.core.palette import PALETTE  # the screen's host colours, in the same order

UNKNOWN = "#9a9a9a"
MAX_LABELLED_LANES = 60  # beyond this the lanes keep their colour but lose their id labels


def _epoch(s: str | None) -> float | None:
    if not s:
        return None
    from datetime import datetime

    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def short_id(cid: str) -> str:
    """A log stream name's environment part, 8 characters: '2026/12/01/[$LATEST]5f3e…' -> '5f3ec485'."""
    return (cid.rsplit("]", 1)[-1] if "]" in cid else cid.rsplit("/", 1)[-1])[:8]


def host_colours(doc: dict) -> dict[str, str]:
    out = {}
    for i, h in enumerate(doc.get("hosts", ())):
        key = h["host_key"]
        out[key] = UNKNOWN if key in (None, "?") else PALETTE[i % len(PALETTE)]
    return out


def _profile_note(doc: dict) -> str:
    src = doc.get("source") or {}
    bits = []
    if src.get("profile"):
        bits.append(f"profile {src['profile']}")
    if src.get("simulated_hosts"):
        bits.append("simulated hosts")
    return f" ({', '.join(bits)})" if bits else ""


def _queue_note(doc: dict, what: str) -> str:
    """A second line for an axis when this machine queued environment starts (the finding of
    tui/core/findings/start_queue.py): `what` is what the wait moved, on this figure."""
    for f in doc.get("findings") or []:
        if isinstance(f, dict) and f.get("kind") == "local_start_queue" and isinstance(f.get("max_s"), int | float):
            return f"\nthis machine queued environment starts up to {f['max_s']:.1f} s: {what}, not Lambda's"
    return ""


MAX_COLUMNS = 150


def display_width(base: float, span_s: float) -> float:
    """The column width for a run of `span_s`: the model's bucket times 1, 2, 5, 10, 20, … so the
    run fits in about MAX_COLUMNS columns."""
    k, steps = 0, (1, 2, 5)
    while True:
        w = base * steps[k % 3] * 10 ** (k // 3)
        if span_s / w <= MAX_COLUMNS:
            return w
        k += 1


def serving_rows(doc: dict) -> list[dict]:
    """Serving containers in lane order: by wave, then by first record."""
    rows = [r for r in doc["containers"] if r["invocations"] > 0]
    rows.sort(key=lambda r: (r["wave"] if r["wave"] is not None else 1 << 30, r["first_seen"] or "", r["container_id"]))
    return rows


def draw_all(doc: dict, timeline: list[dict], latency: dict | None = None) -> dict[str, bytes]:
    """Every figure, as {"timeline.png": bytes, "timeline.svg": bytes, ...}."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # a Figure not tied to pyplot: no global state, thread-safe

    out = {}
    for name, fig in (
        ("timeline", _timeline(Figure, doc, timeline)),
        ("invocations", _invocations(Figure, doc)),
        ("latency", _latency(Figure, doc, latency or {})),
    ):
        for fmt in ("png", "svg"):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else None)
            out[f"{name}.{fmt}"] = buf.getvalue()
    return out


def _legend(ax, doc: dict, colours: dict[str, str], rows: list[dict], **kw) -> None:
    from matplotlib.patches import Patch

    per_host: dict[str, int] = {}
    for r in rows:
        per_host[r["host_key"]] = per_host.get(r["host_key"], 0) + 1
    handles = [Patch(color=colours.get(h, UNKNOWN), label=f"{h} ({per_host[h]})") for h in colours if h in per_host]
    sim = (doc.get("source") or {}).get("simulated_hosts")
    ax.legend(
        handles=handles, title="host (simulated)" if sim else "host", fontsize=8, title_fontsize=8, framealpha=0.9, **kw
    )


def _timeline(Figure, doc: dict, timeline: list[dict]):
    rows = serving_rows(doc)
    colours = host_colours(doc)
    lane_of = {r["container_id"]: i for i, r in enumerate(rows)}
    base_width = (timeline[0].get("bucket_s") if timeline else None) or doc.get("bucket_s") or 1.0
    spans = [t["t_s"] for t in timeline if t["t_s"] is not None]
    width = display_width(base_width, (max(spans) - min(spans)) if spans else 0.0)
    # The model's buckets summed into display columns (about MAX_COLUMNS across the run): 0.1 s
    # buckets over a minute are noise to the eye, the lane's shape is what a person reads.
    binned: dict[tuple[int, int], int] = {}
    for t in timeline:
        i = lane_of.get(t["container_id"])
        if i is None or t["t_s"] is None:
            continue
        key = (i, int((t["t_s"] + 1e-9) // width))
        binned[key] = binned.get(key, 0) + t["invocations"]
    per_lane: dict[int, list[tuple[float, int]]] = {}
    peak = 1
    t_max = 0.0
    for (i, b), v in binned.items():
        per_lane.setdefault(i, []).append((b * width, v))
        peak = max(peak, v)
        t_max = max(t_max, (b + 1) * width)
    n = len(rows)
    height = min(16.0, max(3.2, 1.6 + 0.22 * n))
    fig = Figure(figsize=(11, height), layout="constrained")
    ax = fig.add_subplot()
    # Each lane is a step area: the bucket's invocations scaled to the busiest bucket of the run,
    # so a lane's height reads as load, its colour as the host, its extent as the container's life.
    for i, r in enumerate(rows):
        pts = sorted(per_lane.get(i, ()))
        colour = colours.get(r["host_key"], UNKNOWN)
        y = n - 1 - i  # first container on top, as in the blog's sorted plot
        xs, hs = [], []
        for t_s, v in pts:  # a rectangle per bucket, drawn as one area per lane
            h = 0.9 * v / peak
            xs += [t_s, t_s, t_s + width, t_s + width]
            hs += [0.0, h, h, 0.0]
        if xs:
            base = y - 0.45
            area = ax.fill_between(xs, base, [base + h for h in hs], color=colour, linewidth=0)
            area.set_gid(f"lane-{i}")  # the SVG's <g id="lane-N">: one per serving container
        ax.axhline(y - 0.5, color="#e6e6e6", linewidth=0.5, zorder=0)
    # Waves: a dashed line at each start, labelled beside the wave's first lane.
    waves = [f for f in doc.get("findings", ()) if f["kind"] == "wave" and f.get("serving")]
    for k, w in enumerate(waves):
        ax.axvline(w["at_s"], color="#555555", linestyle="--", linewidth=0.8, zorder=1)
        label = f"wave {w['index'] + 1}: {w['size']}"
        if w.get("pre_initialized"):
            label += f" ({w['serving']} served)"
        # staggered in the headroom above the lanes, so waves a fraction of a second apart stay legible
        ax.annotate(
            label,
            xy=(w["at_s"], 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3 - 11 * (k % 3)),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color="#333333",
        )
    # Retirements: a red cross at each retired container's last invocation, a label per group.
    t0 = _epoch(doc.get("started_at"))
    last_s = {r["container_id"]: _epoch(r["last_seen"]) - t0 for r in rows if t0 is not None and r["last_seen"]}
    retired_lanes = [(lane_of[r["container_id"]], r) for r in rows if r["state"] == "retired"]
    if retired_lanes:
        ax.scatter(
            [last_s.get(r["container_id"], 0.0) for _, r in retired_lanes],
            [n - 1 - i for i, _ in retired_lanes],
            marker="x",
            color="#c0392b",
            s=18,
            linewidths=1.2,
            zorder=3,
        )
    for f in doc.get("findings", ()):
        if f["kind"] == "retirement":
            ys = [n - 1 - lane_of[c] for c in f["container_ids"] if c in lane_of]
            if ys:
                label = f"{f['host_keys'][0]} retired" if f.get("host_retired") and f["host_keys"] else "retired"
                ax.annotate(
                    f"{label} at +{f['at_s']:.1f} s",
                    xy=(f["at_s"], max(ys)),
                    xytext=(8, 0),
                    textcoords="offset points",
                    fontsize=8,
                    color="#c0392b",
                    va="center",
                )
    for f in doc.get("findings", ()):
        if f["kind"] == "host_takeover":
            ax.axvline(f["at_s"], color="#2e7d32", linestyle=":", linewidth=1.0, zorder=1)
            ax.annotate(
                f"from +{f['at_s']:.1f} s {f['host_key']} serves {f['share_after']:.0%}",
                xy=(f["at_s"], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(4, -3 - 11 * 3),
                textcoords="offset points",
                fontsize=8,
                color="#2e7d32",
                va="top",
            )
    ax.set_ylim(-0.7, n - 0.3 + (1.2 + 0.3 * min(4, len(waves) + 1)) * max(1.0, n / 24))  # headroom for the labels
    ax.set_xlim(min([0.0] + [w["at_s"] for w in waves]) - width, max(t_max, width) + width)
    if n <= MAX_LABELLED_LANES:
        ax.set_yticks(range(n), [short_id(r["container_id"]) for r in reversed(rows)], fontsize=7, family="monospace")
    else:
        ax.set_yticks([])
    ax.set_xlabel(
        f"seconds since the first request (one column = {width:g} s; lane height: invocations "
        f"in it, the tallest {peak:,})" + _queue_note(doc, "first requests are later by that wait")
    )
    ax.set_ylabel("container, by first request")
    hosts = len({r["host_key"] for r in rows})
    ax.set_title(
        f"Invocations over time per container: {n} containers on {hosts} host{'s' if hosts != 1 else ''}"
        f"{_profile_note(doc)}",
        fontsize=11,
        loc="left",
    )
    ax.spines[["top", "right"]].set_visible(False)
    _legend(ax, doc, colours, rows, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    return fig


def _invocations(Figure, doc: dict):
    rows = serving_rows(doc)
    colours = host_colours(doc)
    n = len(rows)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax = fig.add_subplot()
    values = [r["invocations"] for r in rows]
    ax.bar(range(n), values, color=[colours.get(r["host_key"], UNKNOWN) for r in rows], width=0.8)
    total = sum(values)
    if n:
        ax.axhline(total / n, color="#333333", linestyle="--", linewidth=0.9)
        ax.annotate(
            f"even split: {total / n:,.0f} each",
            xy=(0, total / n),
            xytext=(2, 3),
            textcoords="offset points",
            fontsize=8,
            color="#333333",
        )
    if n <= MAX_LABELLED_LANES:
        ax.set_xticks(
            range(n), [short_id(r["container_id"]) for r in rows], rotation=90, fontsize=7, family="monospace"
        )
    else:
        ax.set_xticks([])
    spread = next((f for f in doc.get("findings", ()) if f["kind"] == "spread"), None)
    sub = (
        f": busiest {spread['largest_share']:.1%}, max/min {spread['max_over_min'] or '–'}×, Gini {spread['gini']:.2f}"
        if spread
        else ""
    )
    ax.set_title(
        f"Invocations per container, by first request ({total:,} over {n}){sub}{_profile_note(doc)}",
        fontsize=11,
        loc="left",
    )
    ax.set_ylabel("invocations")
    ax.set_xlabel("container, by first request")
    ax.spines[["top", "right"]].set_visible(False)
    _legend(ax, doc, colours, rows, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    return fig


def _latency(Figure, doc: dict, latency: dict):
    cold, warm = list(latency.get("cold_ms") or ()), list(latency.get("warm_ms") or ())
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax = fig.add_subplot()
    if cold or warm:
        lo = max(0.1, min(cold + warm))
        hi = max(cold + warm)
        edges = [lo * (hi / lo) ** (k / 60) for k in range(61)] if hi > lo else [lo * 0.9, hi * 1.1]
        for values, colour, name in ((warm, "#4e9ddb", "warm"), (cold, "#d9534f", "cold")):
            if not values:
                continue
            s = sorted(values)
            p50, p99 = percentile(s, 50, is_sorted=True), percentile(s, 99, is_sorted=True)  # as the findings
            ax.hist(
                values,
                bins=edges,
                color=colour,
                alpha=0.6,
                label=f"{name}: {len(values):,} requests, p50 {p50:,.0f} ms, p99 {p99:,.0f} ms",
            )
            ax.axvline(p50, color=colour, linewidth=1)
            ax.axvline(p99, color=colour, linewidth=1, linestyle=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(
            "response latency, ms (log scale; solid p50, dotted p99)"
            + _queue_note(doc, "cold latencies include that wait")
        )
        ax.set_ylabel("requests")
        ax.legend(fontsize=8)
        ax.set_title(f"Response latency, cold vs warm requests{_profile_note(doc)}", fontsize=11, loc="left")
    else:
        rows = [r for r in serving_rows(doc) if r["init_duration_ms"] is not None]
        colours = host_colours(doc)
        hosts = [h for h in colours if any(r["host_key"] == h for r in rows)]
        for x, h in enumerate(hosts):
            vals = [r["init_duration_ms"] for r in rows if r["host_key"] == h]
            ax.scatter(
                [x + (k % 7 - 3) * 0.04 for k in range(len(vals))],
                vals,
                color=colours[h],
                s=18,
                label=f"{h} ({len(vals)})",
            )
        ax.set_xticks(range(len(hosts)), hosts, fontsize=8)
        ax.set_ylabel("Init Duration, ms")
        ax.set_title(
            f"Cold starts: Init Duration per container, by host{_profile_note(doc)}\n"
            "(no response latency was recorded: a log-only source, or a model without the split)",
            fontsize=11,
            loc="left",
        )
        if not rows:
            ax.text(0.5, 0.5, "no cold start in this data", transform=ax.transAxes, ha="center", color="#666666")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def main(argv: list[str]) -> int:
    """`python -m tui.output.figures FOLDER`: draw the figures of the bundle on stdin (JSON: doc,
    timeline, latency) into FOLDER. The monitor's `s` key draws here, in a child process, so
    matplotlib's import and drawing never hold the screen's interpreter (or its GIL)."""
    import json
    import os
    import sys

    data = json.load(sys.stdin)
    for name, content in draw_all(data["doc"], data["timeline"], data.get("latency")).items():
        fd = os.open(os.path.join(argv[0], name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
