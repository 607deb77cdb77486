"""The loader's side of the control object (loadgen/loader/control.decide) and the monitor's
bookkeeping of each change (tui/methods/fanout_control.Changes): pure, no IO."""

from loadgen.loader.control import decide
from loadgen.plan import Plan
from loadgen.split import share_of
from tui.methods.fanout_control import Changes


def doc(gen, plan=None, run="r1", stop=False):
    return {"run": run, "gen": gen, "plan": plan.to_dict() if plan else None, "stop": stop}


def test_each_loader_takes_its_part_of_a_new_generation_once():
    whole = Plan("closed", 7)
    parts = [decide(doc(1, whole), "r1", i, 4, 0).part for i in range(4)]
    assert parts == [share_of(whole, i, 4) for i in range(4)]
    assert [int(p.level) for p in parts] == [2, 2, 2, 1]  # the remainder spread, never dropped
    assert decide(doc(1, whole), "r1", 0, 4, seen=1) is None  # already applied
    assert decide(doc(2, whole, run="other"), "r1", 0, 4, 1) is None  # another run's object


def test_fewer_workers_than_loaders_pauses_the_ones_left_without():
    parts = [decide(doc(1, Plan("closed", 2)), "r1", i, 4, 0).part for i in range(4)]
    assert [p.paused for p in parts] == [False, False, True, True]


def test_a_stop_stops_whatever_was_seen():
    d = decide(doc(9, stop=True), "r1", 3, 4, seen=9)
    assert d is not None and d.part is None


def test_a_change_has_reached_the_fan_out_when_every_running_loader_applied_it():
    changes = Changes(Plan("closed", 4))
    gen = changes.ask(Plan("closed", 5), at=100.0)
    changes.applied(0, gen, 100.05, 100.06)
    assert changes.line([0, 1]).endswith("reaching 1 of 2 loaders…")
    assert changes.running({0: gen, 1: 0}) == Plan("closed", 4)  # not yet every loader's
    changes.applied(1, gen, 100.2, 100.25)
    assert changes.last.reach_s([0, 1]) == 100.2 - 100.0
    assert "reached 2 loaders in 0.20 s (heard back in 0.25 s)" in changes.line([0, 1])
    assert changes.running({0: gen, 1: gen}) == Plan("closed", 5)
