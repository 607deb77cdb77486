"""The header: target, load, what the load achieved, the fleet in numbers, and the log channel's
health, with a loud line whenever a source sampled, dropped, failed or fell behind.

`header_text` is pure (tested without a screen); `MonitorHeader` only shows what it returns.
"""

from rich.text import Text
from textual.widgets import Static

from tui.core.errors import mask
from tui.core.events import SourceStatus
from tui.core.target_info import TargetInfo
from tui.screen.widgets.containers import is_pre_initialized

WARN_STYLE = "bold white on dark_red"
SEP = "  │  "
LAG_WARN_S = 10.0  # log lag (against the clock) from which the header says the logs fell behind


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def fmt_rate(r: float | None) -> str:
    if r is None:
        return "–"
    return f"{r:,.0f}" if r >= 10 else f"{r:.1f}"


def log_lag(fleet, statuses: list[SourceStatus]) -> float | None:
    """How far behind the logs are, in seconds: the worst of the response → log confirmation
    lag and each source's own lag against the clock (which grows while no events come)."""
    lags = [s.lag_ms / 1000 for s in statuses if s.lag_ms is not None]
    if fleet.counters.log_lag_s is not None:
        lags.append(fleet.counters.log_lag_s)
    return max(lags) if lags else None


def fleet_counts(fleet) -> tuple[int, int, int]:
    """(serving containers, cold starts, pre-initialised): an environment initialised and never
    invoked is neither a container serving the load nor a cold start (no request waited)."""
    serving = cold = pre = 0
    for c in fleet.containers.values():
        if c.invocations > 0:
            serving += 1
            cold += c.cold_starts
        elif is_pre_initialized(c):
            pre += 1
    return serving, cold, pre


def waiting_text(target: "TargetInfo") -> str:
    """Line 3 before the first data: what is happening, so an empty table does not look dead."""
    if target.kind == "local":
        return " starting the local Lambda… (the first environments' cold starts take a few seconds)"
    if target.kind == "replay":
        return " replaying: waiting for the recording's first batch…"
    return " waiting for the first responses and log lines…"


def source_warnings(statuses: list[SourceStatus], failures: dict[str, str]) -> list[str]:
    """One short phrase per thing a user must know about the log channel."""
    out = []
    for s in statuses:
        if s.sampled:
            out.append(f"{s.name} SAMPLED: log counts are partial")
        if s.dropped:
            out.append(f"{s.name} dropped {s.dropped:,} events")
        if s.behind:
            out.append(f"{s.name} is falling behind")
        if s.error and s.name not in failures:
            out.append(f"{s.name}: {mask(s.error)}")
        # A group read beside the function's (a capacity provider's system log) that fails:
        # the hosts lack what it would give them (AZ, launches), and the screen says so.
        for group, note in (s.extra.get("groups") or {}).items():
            if isinstance(note, dict) and note.get("error"):
                what = "system log" if "capacity-provider" in group else group
                out.append(f"{what} unread ({mask(note['error'])}): no AZs")
    for name, error in failures.items():
        out.append(f"{name} stopped: {mask(error)}")
    return out


def header_text(
    target: TargetInfo,
    load: str,
    stats: dict | None,
    fleet,
    statuses: list[SourceStatus],
    failures: dict[str, str],
    elapsed: float | None,
    starting: bool = False,
) -> Text:
    """Four lines: target and load; achieved load; the fleet; the log channel. `starting`: the
    target, the load and the log source are still starting (the screen comes up first)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(" lambdascope ", style="bold reverse")
    # The clock and the load first: on a narrow terminal the line is cut at the right.
    if elapsed is not None:
        t.append(f"  run {int(elapsed // 60)}:{int(elapsed % 60):02d}")
    t.append(SEP)
    t.append(load, style="bold yellow" if "PAUSED" in load else "bold")
    t.append(SEP)
    t.append(target.label(), style="bold cyan")
    t.append("\n")

    if stats is None and starting:
        t.append(" load generator: starting…", style="dim")
    elif stats is None:
        t.append(" no load generator: watching the logs only", style="dim")
    else:
        t.append(f" {fmt_rate(stats['rate'])} req/s", style="bold")
        inflight = stats.get("in_flight")
        t.append(f" · in flight {inflight if inflight is not None else '–'}")
        t.append(f" · p50 {fmt_ms(stats.get('p50_ms'))} · p99 {fmt_ms(stats.get('p99_ms'))}")
        errors = stats.get("errors") or {}
        t.append(" · errors: ")
        if errors:
            t.append(
                ", ".join(f"{k} {v:,}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])), style="bold red"
            )
        else:
            t.append("none", style="green")
        if errors.get("local_limit"):
            # The local Lambda refused for want of this machine's CPU or memory: lowering the
            # load is the fix, and Lambda itself would have taken it.
            t.append(" · ⚠ this machine, not Lambda, is the limit: lower the load", style="bold red")
        held = stats.get("held_back")
        if held:
            t.append(f" · held back by cap {held:,}", style="yellow")
    t.append("\n")

    counters = fleet.counters
    lag = log_lag(fleet, statuses)
    behind = lag is not None and lag >= LAG_WARN_S
    if not fleet.containers and not counters.requests:
        t.append(waiting_text(target), style="bold yellow")
    else:
        serving, cold, pre = fleet_counts(fleet)
        unconfirmed = sum(c.unconfirmed for c in fleet.containers.values())
        queue = getattr(fleet, "start_queue", None)
        t.append(f" {serving:,} containers · {cold:,} cold starts")
        if queue is not None and queue.worth_saying:  # beside the cold starts it delayed (start_queue.py)
            t.append(f" ({queue.short()})", style="yellow")
        t.append(f" · {counters.invocations:,} invocations")
        if pre:
            t.append(f" · {pre:,} pre-initialised", style="dim")
        if unconfirmed:  # normal under load (the logs' lag); loud only when the logs fell behind
            t.append(f" · ◌ {unconfirmed:,} not yet in logs", style="yellow" if behind else "")
        if counters.throttled:
            t.append(f" · {counters.throttled:,} throttled", style="red")
    t.append("\n")

    warnings = source_warnings(statuses, failures)
    dropped = getattr(counters, "logs_dropped", 0)
    if dropped:  # platform.logsDropped: Lambda itself lost these records, no source can get them
        warnings.insert(0, f"Lambda dropped {dropped:,} log records: the counts are short")
    if behind and not any(s.behind for s in statuses):
        warnings.insert(0, f"logs {lag:.0f} s behind")
    if starting and not statuses:
        t.append(" logs: starting…", style="dim")
        return t
    names = ", ".join(s.name for s in statuses) or "no log source"
    t.append(f" logs ({names}): ")
    t.append(f"lag {'–' if lag is None else f'{lag:.1f} s'}", style="bold red" if behind else "")
    if counters.log_lag_max_s:
        t.append(f" (max {counters.log_lag_max_s:.1f} s)")
    events = sum(s.events for s in statuses)
    t.append(f" · {events:,} events")
    if counters.malformed:
        t.append(f" · {counters.malformed:,} unreadable lines", style="yellow")
    if warnings:
        t.append("  ")
        t.append(" ⚠ " + " · ".join(warnings) + " ", style=WARN_STYLE)
    return t


class MonitorHeader(Static):
    DEFAULT_CSS = """
    MonitorHeader { height: 4; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    text = Text()

    def show(self, text: Text) -> None:
        self.text = text
        self.update(text, layout=False)
