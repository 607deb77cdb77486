"""The story (tui/core/findings.py) on synthetic fleets fed through the model's own entry point
(parsed records), one table per finding kind, edge cases included."""

import pytest

from tui.core import findings as F
from tui.core import lambdalog as L
from tui.core.fleet import Fleet

T0 = 1_795_789_200.0
CPU_A = "Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz"
CPU_B = "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz"


def stream(n: int) -> str:
    return f"2026/11/27/[$LATEST]{n:032x}"


class Build:
    """A fleet from environments: each an INIT_START, then invocations (the first pays the init)."""

    def __init__(self):
        self.records: list[L.Record] = []
        self.n = 0

    def env(self, host: str | None, init_at: float, calls=(), cpu=CPU_A, init_ms=100.0, bogomips=5800.0):
        self.n += 1
        s = stream(self.n)
        self.records.append(L.Record(L.INIT_START, s, int((T0 + init_at) * 1000)))
        for k, t in enumerate(calls):
            rid = f"r{self.n}-{k}"
            ms = int((T0 + t) * 1000)
            self.records.append(
                L.Record(
                    L.PROBE,
                    s,
                    ms,
                    rid,
                    {
                        "lambdascope": 1,
                        "container_id": s,
                        "request_id": rid,
                        "cold": k == 0,
                        "hostname": host,
                        "boot_id": f"boot-{host}",
                        "cpu_model": cpu,
                        "cpu_mhz": 2900.0,
                        "bogomips": bogomips,
                    },
                )
            )
            data = {"duration_ms": 2.0}
            if k == 0:
                data["init_duration_ms"] = init_ms
            self.records.append(L.Record(L.REPORT, s, ms, rid, data))
        return s

    def burst(self, host, n, at, calls_from, calls_to, every=0.05, jitter=0.003, **kw):
        """`n` environments started `jitter` apart at `at`, each serving every `every` seconds."""
        ids = []
        for i in range(n):
            start = at + i * jitter
            first = max(calls_from, start + 0.1)
            calls = [first + k * every for k in range(int((calls_to - first) / every) + 1)] if calls_to > first else []
            ids.append(self.env(host, start, calls, **kw))
        return ids

    def fleet(self, now: float):
        f = Fleet()
        f.apply_records(self.records, now=T0 + now)
        return f


def tell(b: Build, now: float, **kw):
    f = b.fleet(now)
    return f, F.tell(f, T0 + now, **kw)


# ---- split_by_gaps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "times, groups",
    [
        ([], []),
        ([0.0], [1]),
        ([0.0, 0.001, 0.004, 0.006], [4]),  # one tight burst
        ([0.0, 0.002, 0.005, 0.008, 0.5, 0.503, 0.51], [4, 3]),  # the blog profile: bursts 0.5 s apart
        ([0.0, 10.0], [1, 1]),  # two lone starts far apart
        ([float(i) for i in range(10)], [10]),  # a steady trickle, one a second: no burst stands out
        ([0, 0.1, 0.2, 0.3, 0.4, 12, 12.1, 12.3, 12.4, 40, 40.2, 40.5], [5, 4, 3]),  # a real function: seconds
        ([0, 0.01, 0.02, 0.2], [4]),  # 0.18 s is not 10x the 25 ms resolution, so it stays one group...
        ([0, 0.01, 0.02, 0.03, 0.4], [4, 1]),  # ...while 0.37 s is
    ],
)
def test_split_by_gaps(times, groups):
    assert [hi - lo for lo, hi in F.split_by_gaps(times)] == groups


# ---- waves --------------------------------------------------------------------------------------


def blog_like() -> Build:
    b = Build()
    b.burst("host-1", 4, 0.0, 0.1, 2.0)
    b.burst("host-2", 10, 0.5, 0.6, 3.5, cpu=CPU_B, bogomips=5600.0)
    b.burst("host-3", 10, 3.5, 3.6, 9.0)
    for i in range(14):  # initialised alongside the third batch, never invoked
        b.env(None, 3.52 + i * 0.01)
    return b


def test_waves_of_the_blog_profile_separate_and_count_the_never_invoked_apart():
    _, story = tell(blog_like(), 9.5)
    assert [(w["size"], w["serving"], w["pre_initialized"]) for w in story.waves] == [
        (4, 4, 0),
        (10, 10, 0),
        (24, 10, 14),
    ]
    assert [w["at_s"] for w in story.waves] == [0.0, 0.5, 3.5]
    assert [w["host_keys"] for w in story.waves] == [["host-1"], ["host-2"], ["host-3"]]
    assert story.waves[2]["text"].startswith("wave 3: 24 environments started at +3.5 s (over 0.15 s) on host-3")
    assert "14 never invoked" in story.waves[2]["text"]
    assert sorted(set(story.wave_of.values())) == [0, 1, 2] and len(story.wave_of) == 38


@pytest.mark.parametrize(
    "case, bursts, sizes, hosts",
    [
        ("one container", [("a", 1, 0.0)], [1], [["a"]]),
        (
            "seconds apart, a real function",
            [("a", 20, 0.0), ("a", 30, 12.0), ("b", 50, 40.0)],
            [20, 30, 50],
            [["a"], ["a"], ["b"]],
        ),
        ("a wave on two hosts", [("a", 5, 0.0), ("b", 5, 0.001)], [10], [["a", "b"]]),
        ("overlapping waves are one wave", [("a", 10, 0.0), ("b", 10, 0.012)], [20], [["a", "b"]]),
    ],
)
def test_waves_table(case, bursts, sizes, hosts):
    b = Build()
    for host, n, at in bursts:
        b.burst(host, n, at, at + 0.2, at + 0.5, jitter=0.02 if n > 10 else 0.003)
    _, story = tell(b, 60.0)
    assert [w["size"] for w in story.waves] == sizes, case
    assert [w["host_keys"] for w in story.waves] == hosts, case


def test_no_load_tells_nothing_and_only_pre_initialised_tells_that():
    assert F.tell(Fleet(), T0).findings == []
    b = Build()
    b.env(None, 0.0)
    b.env(None, 0.01)
    _, story = tell(b, 5.0)
    assert [f["kind"] for f in story.findings] == ["wave", "pre_initialized"]
    assert story.of_kind("pre_initialized")[0]["count"] == 2
    assert story.waves[0]["serving"] == 0


# ---- retirements, takeover, states --------------------------------------------------------------


def test_a_host_that_retires_with_its_containers_while_the_load_goes_on():
    b = Build()
    first = b.burst("host-1", 4, 0.0, 0.1, 2.0)
    later = b.burst("host-2", 10, 2.2, 2.3, 10.0)
    f, story = tell(b, 10.0)
    [r] = story.of_kind("retirement")
    assert r["host_retired"] and r["host_keys"] == ["host-1"] and sorted(r["container_ids"]) == sorted(first)
    assert r["size"] == 4 and r["at_s"] == pytest.approx(2.0, abs=0.06)
    assert r["text"].startswith("host-1 retired at +2.0 s: all 4 of its containers stopped serving")
    assert all("its host host-1" in story.retired[c] for c in first)
    assert {story.state(f.containers[c], T0 + 10.0) for c in first} == {"retired"}
    assert {story.state(f.containers[c], T0 + 10.0) for c in later} == {"busy"}
    [t] = story.of_kind("host_takeover")
    assert t["host_key"] == "host-2" and t["at_s"] == pytest.approx(2.0, abs=0.06) and t["share_after"] == 1.0


def test_when_the_load_stops_nothing_retired_it_just_went_idle():
    b = Build()
    b.burst("host-1", 4, 0.0, 0.1, 5.0)
    b.burst("host-2", 4, 0.003, 0.1, 5.0)
    f, story = tell(b, 30.0)
    assert story.retired == {} and story.of_kind("retirement") == [] and story.of_kind("host_takeover") == []
    assert {story.state(c, T0 + 30.0) for c in f.containers.values()} == {"idle"}


def test_one_container_that_goes_quiet_while_the_others_serve_is_idle_not_retired():
    # most-recently-used routing leaves a spare environment unused: that is not a retirement
    b = Build()
    [spare] = b.burst("host-1", 1, 0.0, 0.1, 2.0)
    b.burst("host-1", 3, 0.002, 0.1, 10.0)
    f, story = tell(b, 10.0)
    assert story.retired == {} and story.state(f.containers[spare], T0 + 10.0) == "idle"


def test_one_container_replaced_by_a_new_one_while_its_host_serves_on_is_retired_but_the_host_is_not():
    b = Build()
    [quits] = b.burst("host-1", 1, 0.0, 0.1, 2.0)
    b.burst("host-1", 3, 0.002, 0.1, 10.0)
    b.burst("host-1", 1, 4.0, 4.1, 10.0)  # a new environment, started after it went quiet
    _, story = tell(b, 10.0)
    [r] = story.of_kind("retirement")
    assert not r["host_retired"] and r["container_ids"] == [quits]
    assert "kept serving" in story.retired[quits]
    assert story.of_kind("host_takeover") == []  # one host: nothing to take over


def test_a_load_that_pauses_for_minutes_and_comes_back_is_not_a_retirement():
    b = Build()
    b.burst("host-1", 4, 0.0, 0.1, 3.0)
    b.burst("host-2", 4, 300.0, 300.1, 303.0)
    _, story = tell(b, 303.0)
    assert story.retired == {}


def test_one_container_tells_a_wave_cold_start_and_no_spread():
    b = Build()
    b.env("a", 0.0, [0.1, 0.2, 0.3], init_ms=123.0)
    _, story = tell(b, 1.0)
    assert [f["kind"] for f in story.findings] == ["wave", "hardware", "cold_start"]
    cs = story.of_kind("cold_start")[0]
    assert (cs["count"], cs["init_ms_p50"], cs["init_ms_p99"]) == (1, 123.0, 123.0)


# ---- spread, hardware, cold start, pre-initialised, lifetime ------------------------------------


@pytest.mark.parametrize(
    "counts, gini, word, ratio, share",
    [
        ([10, 10, 10, 10], 0.0, "even", 1.0, 0.25),
        ([1, 1, 1, 97], 0.72, "uneven", 97.0, 0.97),
        ([22, 133, 105, 118, 18, 114, 133, 108, 118, 131], 0.20, "uneven", 7.39, 0.1330),  # the blog's table
    ],
)
def test_spread(counts, gini, word, ratio, share):
    b = Build()
    for i, n in enumerate(counts):
        b.env("h", i * 0.001, [1.0 + k * 0.001 for k in range(n)])
    _, story = tell(b, 2.0)
    [s] = story.of_kind("spread")
    assert s["gini"] == pytest.approx(gini, abs=0.01)
    assert s["max_over_min"] == pytest.approx(ratio, abs=0.01) and s["largest_share"] == pytest.approx(share, abs=1e-3)
    assert s["even_share"] == pytest.approx(1 / len(counts)) and s["text"].startswith(word + " spread")


def test_hardware_names_models_and_hosts_in_order_of_appearance():
    _, story = tell(blog_like(), 9.5)
    [h] = story.of_kind("hardware")
    assert h["cpu_models"] == [CPU_A, CPU_B]
    assert [e["host_key"] for e in h["hosts"]] == ["host-1", "host-2", "host-3"]
    assert h["text"].startswith("2 CPU models on 3 hosts: Xeon E5-2666 v3 @ 2.90GHz (host-1, host-3)")
    assert "bogomips 5,600–5,800" in h["text"]


def test_cold_start_percentiles_and_the_never_invoked_are_not_cold_starts():
    b = Build()
    for i, ms in enumerate([100.0, 200.0, 300.0, 400.0, 1000.0]):
        b.env("h", i * 0.001, [0.5, 0.6], init_ms=ms)
    b.env(None, 0.002)
    _, story = tell(b, 1.0)
    cs = story.of_kind("cold_start")[0]
    assert (cs["count"], cs["serving"], cs["init_ms_p50"], cs["init_ms_p99"]) == (5, 5, 300.0, 1000.0)
    assert cs["text"].startswith("5 cold starts, one per serving container; Init Duration p50 300 ms, p99 1,000 ms")
    pre = story.of_kind("pre_initialized")[0]
    assert pre["count"] == 1 and pre["container_ids"] == [stream(6)]


def test_lifetime_only_when_something_ended_or_the_run_is_long():
    _, short = tell(blog_like(), 9.5)
    [life] = short.of_kind("lifetime")  # host-1 and host-2 retired
    assert life["retired_lifetime_s_max"] == pytest.approx(3.0, abs=0.1)
    b = Build()
    b.burst("h", 3, 0.0, 0.1, 5.0)
    assert tell(b, 5.0)[1].of_kind("lifetime") == []
    b = Build()
    b.burst("h", 3, 0.0, 0.1, 70.0, every=1.0)
    assert tell(b, 70.0)[1].of_kind("lifetime")[0]["lifetime_s_max"] == pytest.approx(69.1, abs=0.01)


def test_every_finding_has_kind_text_and_evidence():
    _, story = tell(blog_like(), 9.5)
    kinds = [f["kind"] for f in story.findings]
    assert kinds == [
        "wave",
        "wave",
        "wave",
        "retirement",
        "retirement",
        "host_takeover",
        "spread",
        "hardware",
        "cold_start",
        "pre_initialized",
        "lifetime",
    ]
    for f in story.findings:
        assert f["text"] and "\n" not in f["text"] and isinstance(f["evidence"], dict)
    assert story.lines() == [f["text"] for f in story.findings]


def test_the_teller_tells_again_on_a_new_environment_a_new_host_key_or_after_its_interval():
    b = blog_like()
    f = b.fleet(9.5)
    teller = F.Teller(every_s=1.0)
    first = teller.story(f, T0 + 9.5)
    assert teller.story(f, T0 + 9.9) is first  # within the interval, nothing new
    assert teller.story(f, T0 + 10.6) is not first  # the interval passed
    again = teller.story(f, T0 + 10.7)
    assert teller.story(f, T0 + 10.8, host_key="cpu_model") is not again
    b.env("host-3", 10.0, [10.1])
    f.apply_records(b.records[-3:], now=T0 + 10.9)
    assert len(teller.story(f, T0 + 10.9, host_key="cpu_model").wave_of) == 39


def test_snapstart_restores_are_told_as_restores_not_inits():
    b = Build()
    restored = [b.env("h1", 0.0, calls=[0.5, 1.0]), b.env("h1", 0.01, calls=[0.5, 1.0])]
    # Make them SnapStart's: a restore line instead of the init, Restore Duration in the REPORT.
    for r in b.records:
        if r.kind == L.INIT_START:
            r.kind = L.RESTORE_START
        if r.kind == L.REPORT and "init_duration_ms" in r.data:
            r.data["restore_duration_ms"] = r.data.pop("init_duration_ms")
    f = Fleet()
    f.apply_records(b.records, now=T0 + 5)
    cs = F.tell(f, T0 + 5).of_kind("cold_start")[0]
    assert cs["count"] == 2 and cs["restores"] == 2 and len(restored) == 2
    assert "SnapStart restores, not inits" in cs["text"] and "Restore Duration p50" in cs["text"]
    assert "Init Duration" not in cs["text"]

    b.env("h2", 0.02, calls=[0.6])  # one on-demand environment beside them
    f = Fleet()
    f.apply_records(b.records, now=T0 + 5)
    cs = F.tell(f, T0 + 5).of_kind("cold_start")[0]
    assert cs["count"] == 3 and cs["restores"] == 2
    assert "2 of them SnapStart restores" in cs["text"] and "Init/Restore Duration p50" in cs["text"]


def test_percentiles_of_few_values_are_nearest_rank_and_say_how_few():
    # Two cold starts of 594 and 1,944 ms: the median is the first, not the largest (issue 18).
    assert F.percentile([1944.0, 594.0], 50) == 594.0
    assert F.percentile([1944.0, 594.0], 99) == 1944.0
    assert F.percentile(list(range(1, 101)), 50) == 50
    assert F.percentile(list(range(1, 101)), 99) == 99
    assert F.percentile([7.0], 0) == 7.0
    assert F.percentile([], 50) is None
    from tui.core.findings.common import n_note

    assert n_note(2) == " (n=2)"
    assert n_note(1000) == ""
