"""The monitor's keys: the one list the key bar, the help screen and the command palette are
built from (each binding's tooltip is its help text), and the groups of actions a target allows."""

from textual.binding import Binding

LOAD_KEYS = Binding.Group("load")
TIME_KEYS = Binding.Group("time")
HOLD_KEYS = Binding.Group("hold")
# Ordered by importance: a narrow key bar drops from the end.
BINDINGS = [
    Binding(
        "plus,equals_sign",
        "level(1)",
        "load+",
        key_display="+",
        group=LOAD_KEYS,
        tooltip="raise the load one step: one more concurrent request, or the next rate on the "
        "1-1.2-1.5-2-2.5-3-4-5-6-8 ladder",
    ),
    Binding("minus", "level(-1)", "load-", key_display="-", group=LOAD_KEYS, tooltip="lower the load one step"),
    Binding(
        "asterisk",
        "level(1, True)",
        "load++",
        key_display="*",
        group=LOAD_KEYS,
        tooltip="a larger step up (1, 2, 5, 10, 20 …: about ×2)",
    ),
    Binding("slash", "level(-1, True)", "load--", key_display="/", group=LOAD_KEYS, tooltip="a larger step down"),
    Binding("h", "plan_hold", "hold plan", tooltip="--plan: hold the plan at this stage (again: go on)"),
    Binding("n", "plan_next", "next stage", tooltip="--plan: skip to the plan's next stage"),
    Binding("space", "pause", "pause", tooltip="pause / resume the load (in a replay: the playback)"),
    Binding(
        "s",
        "snapshot",
        "snapshot",
        tooltip="snapshot: snapshot.json, containers.csv, timeline.csv, screen.svg in a new folder",
    ),
    Binding(
        "f",
        "findings",
        "findings",
        tooltip="show / hide the findings panel: waves, retirements, "
        "takeover, spread, hardware, cold starts, pre-initialised",
    ),
    Binding(
        "w",
        "time('fit')",
        "whole run",
        group=TIME_KEYS,
        tooltip="timeline: the whole run (the default; columns widen as the run grows)",
    ),
    Binding(
        "right_square_bracket",
        "time('in')",
        "zoom in",
        key_display="]",
        group=TIME_KEYS,
        tooltip="timeline: zoom in (fewer seconds per column, down to the finest bucket)",
    ),
    Binding(
        "left_square_bracket",
        "time('out')",
        "zoom out",
        key_display="[",
        group=TIME_KEYS,
        tooltip="timeline: zoom out (more seconds per column, up to 10 minutes)",
    ),
    Binding(
        "less_than_sign,comma",
        "time('back')",
        "earlier",
        key_display="<",
        group=TIME_KEYS,
        tooltip="timeline: scroll back in time (half a screen; also ,)",
    ),
    Binding(
        "greater_than_sign,full_stop",
        "time('forward')",
        "later",
        key_display=">",
        group=TIME_KEYS,
        tooltip="timeline: scroll forward in time (also .); past now it follows now",
    ),
    Binding(
        "l",
        "time('live')",
        "live",
        group=TIME_KEYS,
        tooltip="timeline: follow now at this zoom (the right edge is the last full column)",
    ),
    Binding(
        "m",
        "mode",
        "open/closed",
        tooltip="switch closed loop (N concurrent) ↔ open loop (R req/s, capped in flight)",
    ),
    Binding(
        "left_parenthesis", "hold(-1)", "hold-", key_display="(", group=HOLD_KEYS, tooltip="hold each request less"
    ),
    Binding(
        "right_parenthesis",
        "hold(1)",
        "hold+",
        key_display=")",
        group=HOLD_KEYS,
        tooltip="hold each request longer (--hold): the next step of 0, 50 ms, 100 ms, 250 ms, 500 ms, 1 s, "
        "2 s, 5 s …, so the same concurrency keeps as many environments busy at a lower rate",
    ),
    Binding(
        "g",
        "host_key",
        "host key",
        tooltip="cycle the host key: hostname → boot id → CPU model (each host keeps its colour)",
    ),
    Binding("o", "sort", "sort", tooltip="cycle the sort: first request → invocations → host (legend order)"),
    Binding(
        "left",
        "seek(-10)",
        "-10s",
        key_display="←",
        priority=True,
        tooltip="replay: back 10 s (plays again from the start up to there)",
    ),
    Binding("right", "seek(10)", "+10s", key_display="→", priority=True, tooltip="replay: forward 10 s"),
    Binding("question_mark", "help", "help", key_display="?", tooltip="this help"),
    Binding("q", "quit", "quit", tooltip="quit: stop the load (and the local Lambda) and exit"),
    Binding("ctrl+c", "quit", "quit", show=False, priority=True),  # the same clean stop
]
LOAD_ACTIONS = ("level", "mode", "hold")  # not in a replay: nothing to steer
PLAN_ACTIONS = ("plan_hold", "plan_next")  # only with --plan
REPLAY_ACTIONS = ("seek",)  # only in a replay
