"""The story the fleet tells: waves, retirements, a host takeover, the spread, the hardware, cold
starts, pre-initialised environments and lifetimes, as findings a person reads in one line each.

Pure: no IO, no clock (the caller passes `now`), cheap enough to run at every redraw with 1,000
containers (tests/bench/bench_findings.py). One call, `tell(fleet, now)`, gives a `Story`:
    story.findings  list of {"kind", "text", ...numbers..., "evidence": {...}}
    story.waves     the `wave` findings in order
    story.wave_of   container id -> wave index (0-based, in order of start)
    story.retired   container id -> why, one line
    story.state(c, now)  "pre-initialised" | "busy" | "idle" | "retired" | "gone"

Times in findings are `*_s`: seconds since the run's first event (the first environment's start,
which the first request caused), so they read the same in a snapshot, on screen and in a figure.

    story.py        tell() and Teller: one pass over the fleet, then each finding in turn
    waves.py, retirements.py, takeover.py, spread.py, hardware.py, cold_starts.py, lifetime.py,
    start_queue.py: one kind of finding each, a `find` function
    common.py       accessors, the gap splitter, the one percentile method, formats
"""

from tui.core.findings.common import gini, percentile, short_cpu, split_by_gaps
from tui.core.findings.story import Story, Teller, tell

__all__ = ["Story", "Teller", "gini", "percentile", "short_cpu", "split_by_gaps", "tell"]
