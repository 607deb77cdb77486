"""The pure helpers behind the widgets: formatting, lanes, legend, header."""

from types import SimpleNamespace

import pytest

from tests.tui.fakes import T0, Traffic
from tui.core.events import SourceStatus
from tui.core.fleet import Fleet
from tui.core.lambdalog import parse_event
from tui.core.start_queue import StartQueue
from tui.core.target_info import TargetInfo
from tui.screen.widgets.containers import (
    COLUMN_KEYS,
    fmt_cold,
    fmt_offset,
    row_cells,
    short_cpu,
    short_id,
    sorted_rows,
)
from tui.screen.widgets.header import WARN_STYLE, header_text, source_warnings
from tui.screen.widgets.lanes import (
    DENSITY,
    density_level,
    density_scale,
    lane_chars,
    scale_text,
    scaled_level,
)
from tui.screen.widgets.legend import PALETTE, HostPalette, legend_text


@pytest.mark.parametrize(
    "cid, short",
    [
        ("2026/11/27/[$LATEST]0f5b29cc53814cf480fb7d70a028c76d", "0f5b29cc"),
        ("2026/11/27/[12]abcdef0123456789", "abcdef01"),
        ("local-env-7", "local-en"),
        ("a/b/c", "c"),
    ],
)
def test_short_id(cid, short):
    assert short_id(cid) == short


@pytest.mark.parametrize(
    "model, short",
    [
        ("Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz", "Xeon E5-2666 v3"),
        ("Intel(R) Xeon(R) Processor @ 2.50GHz", "Xeon 2.50GHz"),
        ("AMD EPYC 7R13 Processor", "EPYC 7R13"),
        ("", ""),
        ("Neoverse-N1", "Neoverse-N1"),
    ],
)
def test_short_cpu(model, short):
    assert short_cpu(model) == short


@pytest.mark.parametrize(
    "t, text",
    [(None, ""), (T0, "+0.0s"), (T0 + 4.24, "+4.2s"), (T0 + 754, "+12:34"), (T0 + 3720, "+1h02m"), (T0 - 1, "+0.0s")],
)
def test_fmt_offset(t, text):
    assert fmt_offset(t, T0) == text


def test_fmt_cold_shows_init_duration_repeats_and_disagreement():
    c = SimpleNamespace(cold_starts=0, init_duration_ms=None, restore_duration_ms=None, cold_signals_disagree=False)
    assert fmt_cold(c) == ""
    c.cold_starts = 1
    assert fmt_cold(c) == "cold"
    c.init_duration_ms = 182.4
    assert fmt_cold(c) == "182ms"
    c.cold_starts, c.cold_signals_disagree = 2, True
    assert fmt_cold(c) == "!2×182ms"


def test_row_cells_mark_unconfirmed_rows():
    f = Fleet()
    o, events = Traffic().invoke(0, T0)
    f.apply_outcomes([o], T0)
    c = f.containers[o.container_id]
    cells = dict(zip(COLUMN_KEYS, row_cells(c, "busy", "host-a", f.started_at)))
    assert cells["log"] == "◌" and cells["inv"] == "1" and cells["state"] == "busy"
    assert cells["conc"] == "0/0" or cells["conc"].endswith("/1")  # requests at once: now/max
    assert cells["init"] == ""  # on-demand: no init type shown
    assert cells["az"] == ""  # no capacity provider's system log: no AZ


def test_density_is_log2_and_the_legend_scale_matches_it():
    assert [density_level(n) for n in (0, 1, 2, 3, 4, 7, 8, 127, 128, 10_000)] == [0, 1, 2, 2, 3, 3, 4, 7, 8, 8]
    assert lane_chars([0, 1, 3, 200]) == " ▁▂█"
    for level, smallest in density_scale():
        assert density_level(int(smallest.rstrip("+"))) == level
        assert lane_chars([int(smallest.rstrip("+"))]) == DENSITY[level]


def test_density_scales_to_the_busiest_column_above_128():
    assert [scaled_level(n, 100) for n in (0, 1, 3, 100)] == [0, 1, 2, 7]  # the plain log2 scale
    assert scaled_level(1239, 1239) == 8 and scaled_level(1, 1239) == 1
    levels = [scaled_level(n, 1239) for n in (10, 100, 600)]
    assert levels == sorted(levels) and len(set(levels)) == 3  # not all █ at 1,239 a column
    assert scale_text(50).endswith("█128+") and scale_text(1239).endswith("█509+ (top 1,239)")


def test_palette_keeps_colours_per_host_and_wraps():
    p = HostPalette()
    assert p.colour("a") == PALETTE[0] and p.colour("b") == PALETTE[1] and p.colour("a") == PALETTE[0]
    for i in range(len(PALETTE)):
        p.colour(f"h{i}")
    assert p.colour("late") == PALETTE[(len(PALETTE) + 2) % len(PALETTE)]


def test_palette_keeps_every_hosts_colour_through_a_host_key_cycle():
    p = HostPalette()
    p.assign(["ip-3", "ip-1", "ip-2"])  # the legend's order: first appearance, not alphabetical
    before = {h: p.colour(h) for h in ("ip-1", "ip-2", "ip-3")}
    assert before["ip-3"] == PALETTE[0] and before["ip-1"] == PALETTE[1]
    p.use("cpu_model")
    p.assign(["Xeon B", "Xeon A"])
    assert p.colour("Xeon B") == PALETTE[0]
    p.use("boot_id")
    p.assign(["ip-2"])  # another key's first host: its own sequence
    p.use("hostname")
    p.assign(["ip-2", "ip-1", "ip-3", "ip-4"])  # a different order later changes nothing
    assert {h: p.colour(h) for h in before} == before
    assert p.colour("ip-4") == PALETTE[3]


def test_host_sort_follows_the_legend_order_not_the_alphabet():
    f, t = Fleet(), Traffic()
    for i, host in enumerate([2, 0, 2, 1, 0]):  # host-c first, then host-a, host-c, host-b, host-a
        o, _ = t.invoke(i, T0 + i, host=host)
        f.apply_outcomes([o], T0 + i)
    assert list(f.hosts("hostname")) == ["host-c", "host-a", "host-b"]
    rows = sorted_rows(f, "host", "hostname")
    assert [(c.hostname, c.order) for c in rows] == [
        ("host-c", 0),
        ("host-c", 2),
        ("host-a", 1),
        ("host-a", 4),
        ("host-b", 3),
    ]
    assert [c.order for c in sorted_rows(f, "first", "hostname")] == [0, 1, 2, 3, 4]


def test_legend_counts_hosts_and_truncates_many():
    text = legend_text({"a": 4, "b": 10}, HostPalette(), "hostname").plain
    assert "hosts by hostname (2): ■ a 4  ■ b 10" in text and "◆ cold" in text
    many = legend_text({f"h{i}": 1 for i in range(30)}, HostPalette(), "cpu_model", max_hosts=5).plain
    assert "hosts by CPU model (30)" in many and "+25 more" in many


def test_target_labels():
    assert TargetInfo("local", "probe", simulated_hosts=True).label() == "LOCAL probe (simulated hosts)"
    assert (
        TargetInfo("local", "lambdascope-probe", simulated_hosts=True, profile="blog").label()
        == "LOCAL lambdascope-probe · profile blog (simulated hosts)"
    )
    assert TargetInfo("aws", "my-fn", "eu-west-1").label() == "AWS my-fn · eu-west-1"
    assert TargetInfo("replay", "s.jsonl", note="×2").label() == "REPLAY s.jsonl · ×2"


def test_source_warnings_name_every_problem():
    ok = SourceStatus("poll", lag_ms=800)
    bad = SourceStatus("livetail", sampled=True, dropped=3, behind=True, error="throttled")
    assert source_warnings([ok], {}) == []
    assert source_warnings([ok, bad], {"file": "gone"}) == [
        "livetail SAMPLED: log counts are partial",
        "livetail dropped 3 events",
        "livetail is falling behind",
        "livetail: throttled",
        "file stopped: gone",
    ]


def test_header_text_lines():
    f = Fleet()
    traffic = Traffic()
    outcomes = [traffic.invoke(i, T0 + i)[0] for i in range(3)]
    f.apply_outcomes(outcomes, T0 + 3)
    stats = {
        "rate": 1234.5,
        "p50_ms": 2.25,
        "p99_ms": 140.0,
        "in_flight": 10,
        "held_back": 7,
        "errors": {"timeout": 1, "throttled": 5},
    }
    lines = header_text(
        TargetInfo("aws", "fn", "us-east-1"),
        "open loop: 1200 req/s",
        stats,
        f,
        [SourceStatus("poll", lag_ms=2000, events=12)],
        {},
        61.0,
    ).plain.splitlines()
    assert lines[0] == " lambdascope   run 1:01  │  open loop: 1200 req/s  │  AWS fn · us-east-1"
    assert lines[1] == (
        " 1,234 req/s · in flight 10 · p50 2.2 ms · p99 140 ms · errors: throttled 5, timeout 1 · held back by cap 7"
    )
    assert lines[2] == " 3 containers · 3 cold starts · 3 invocations · ◌ 3 not yet in logs"
    assert lines[3] == " logs (poll): lag 2.0 s · 12 events"
    # On the local Lambda, this machine's start queue beside the cold starts it delayed.
    f.start_queue = StartQueue(2, 0.8, 1.5, 1)
    queued = header_text(TargetInfo("local", "p"), "x", stats, f, [], {}, 61.0).plain.splitlines()
    assert queued[2] == " 3 containers · 3 cold starts (⧗ queued here ≤1.5 s) · 3 invocations · ◌ 3 not yet in logs"
    f.start_queue = None
    quiet = header_text(TargetInfo("local", "p"), "x", None, Fleet(), [], {}, None).plain.splitlines()
    assert quiet[1] == " no load generator: watching the logs only"
    assert quiet[3] == " logs (no log source): lag – · 0 events"
    assert quiet[2] == " starting the local Lambda… (the first environments' cold starts take a few seconds)"
    paused = header_text(
        TargetInfo("aws", "fn"),
        "closed loop: 10 concurrent · PAUSED",
        {"rate": None, "p50_ms": None, "p99_ms": None, "in_flight": 0},
        f,
        [],
        {},
        5.0,
    )
    assert paused.plain.splitlines()[1].startswith(" – req/s · in flight 0 · p50 – · p99 –")


def test_header_flags_logs_that_fell_behind_the_clock():
    f = Fleet()
    f.apply_outcomes([Traffic().invoke(0, T0)[0]], T0)
    f.counters.log_lag_s = 0.6  # the last confirmation was quick, but the source stopped delivering
    text = header_text(TargetInfo("aws", "fn"), "x", None, f, [SourceStatus("poll", lag_ms=44_200)], {}, 9.0)
    line = text.plain.splitlines()[3]
    assert line.startswith(" logs (poll): lag 44.2 s") and "⚠ logs 44 s behind" in line
    spans = [text.plain[s.start : s.end] for s in text.spans if "red" in str(s.style)]
    assert "lag 44.2 s" in spans
    assert "◌ 1 not yet in logs" in [text.plain[s.start : s.end].strip(" ·") for s in text.spans if s.style == "yellow"]
    calm = header_text(TargetInfo("aws", "fn"), "x", None, f, [SourceStatus("poll", lag_ms=900)], {}, 9.0)
    assert "behind" not in calm.plain and not [s for s in calm.spans if "red" in str(s.style)]


def test_header_says_when_this_machine_not_lambda_is_the_limit():
    stats = {
        "rate": 80.0,
        "p50_ms": 900.0,
        "p99_ms": 3000.0,
        "in_flight": 64,
        "errors": {"local_limit": 12, "throttled": 3},
    }
    line = header_text(TargetInfo("local", "p"), "open loop: 1000 req/s", stats, Fleet(), [], {}, 9.0).plain
    assert "local_limit 12" in line and "this machine, not Lambda, is the limit: lower the load" in line
    calm = header_text(TargetInfo("local", "p"), "x", dict(stats, errors={"throttled": 3}), Fleet(), [], {}, 9.0)
    assert "not Lambda" not in calm.plain


def test_header_warns_in_red_when_lambda_dropped_log_records():
    f = Fleet()
    f.apply_records(
        parse_event(
            "2026/12/01/[$LATEST]" + "b" * 32,
            1_796_000_000_000,
            '{"time":"2026-12-01T00:00:00Z","type":"platform.logsDropped",'
            '"record":{"reason":"Consumer seems to have fallen behind","droppedRecords":123,'
            '"droppedBytes":98765}}',
        ),
        1_796_000_000.0,
    )
    assert f.counters.logs_dropped == 123
    text = header_text(TargetInfo("aws", "fn"), "x", None, f, [SourceStatus("poll")], {}, 9.0)
    line = text.plain.splitlines()[3]
    assert "Lambda dropped 123 log records: the counts are short" in line
    assert any("dropped" in text.plain[s.start : s.end] and str(s.style) == str(WARN_STYLE) for s in text.spans)


def test_a_failing_system_log_is_said_in_the_header_and_a_working_one_is_not():
    s = SourceStatus(name="poll")
    s.extra["groups"] = {"/aws/lambda/capacity-provider/cp": {"events": 0, "error": None}}
    assert source_warnings([s], {}) == []
    s.extra["groups"]["/aws/lambda/capacity-provider/cp"]["error"] = "log group x not found yet"
    assert source_warnings([s], {}) == ["system log unread (log group x not found yet): no AZs"]


def test_the_cold_mark_is_the_first_thing_in_its_lane():
    from tui.screen.widgets.lanes import cold_column

    assert cold_column([0, 0, 3, 1], 2) == 2
    assert cold_column([0, 1, 3, 1], 2) == 1  # a bar before the mark's own column: the mark moves to it
    assert cold_column([0, 0, 0], None) is None  # off screen
    assert cold_column([1, 0], 0) == 0
