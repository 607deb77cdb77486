"""This machine's start queue (tui/core/start_queue.py): read from the local Lambda's status,
said as a finding beside the waves, in the header beside the cold starts, and on the figures'
axes; never from anything but a status document of the right shape."""

import pytest

from tui.core import findings
from tui.core.fleet import Fleet
from tui.core.start_queue import SAID_FROM_S, StartQueue, start_queue
from tui.output.figures import _queue_note

STATUS = {"queued_starts": 812, "local_queue_ms_mean": 7200.0, "local_queue_ms_max": 20200.0, "max_starting": 12}


def test_a_status_document_gives_the_queue():
    q = start_queue({**STATUS, "cold_starts": 1000, "other": "ignored"})
    assert q == StartQueue(812, 7.2, 20.2, 12, 1000)
    assert q.worth_saying
    assert q.text() == (
        "this machine, not Lambda, queued 812 of 1,000 environment starts, 12 inits at a time: 7.2 s on "
        "average, 20.2 s at most; INIT_START keeps Lambda's time, but first requests and cold latencies "
        "here include the wait"
    )
    assert q.short() == "⧗ queued here ≤20.2 s"


@pytest.mark.parametrize(
    "status",
    [
        None,
        [],
        "queued",
        {},
        {**STATUS, "queued_starts": "812"},
        {**STATUS, "local_queue_ms_max": float("nan")},
        {**STATUS, "local_queue_ms_mean": -1},
        {**STATUS, "queued_starts": True},
        {**STATUS, "local_queue_ms_max": 1e30},
    ],
)
def test_anything_else_gives_none(status):
    assert start_queue(status) is None


def test_a_short_wait_or_none_is_not_said():
    assert not StartQueue(0, 0.0, 0.0, 12).worth_saying
    assert not StartQueue(3, 0.01, SAID_FROM_S / 2, 12).worth_saying
    assert StartQueue(1, SAID_FROM_S, SAID_FROM_S, None).text().startswith("this machine, not Lambda, queued 1 ")


def _fleet_with_a_container() -> Fleet:
    from tui.core.events import LogEvent
    from tui.core.lambdalog import parse_events

    fleet = Fleet()
    s, t = "2026/12/08/[$LATEST]abc", 1_795_789_200_000
    fleet.apply_records(
        parse_events(
            [
                LogEvent(s, t, "START RequestId: r1 Version: $LATEST\n"),
                LogEvent(
                    s,
                    t + 5,
                    "REPORT RequestId: r1\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
                    "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 120.00 ms\t\n",
                ),
            ]
        ),
        now=t / 1000 + 1,
    )
    return fleet


def test_the_finding_is_told_beside_the_waves_only_when_worth_saying():
    fleet = _fleet_with_a_container()
    now = max(c.last_seen for c in fleet.containers.values()) + 1
    assert not findings.tell(fleet, now).of_kind("local_start_queue")
    fleet.start_queue = StartQueue(3, 0.001, 0.002, 12)
    assert not findings.tell(fleet, now).of_kind("local_start_queue")
    fleet.start_queue = start_queue(STATUS)
    story = findings.tell(fleet, now)
    [f] = story.of_kind("local_start_queue")
    assert (f["queued"], f["mean_s"], f["max_s"], f["slots"]) == (812, 7.2, 20.2, 12)
    kinds = [x["kind"] for x in story.findings]
    assert kinds.index("local_start_queue") == kinds.index("wave") + 1  # read with the waves it is not


def test_the_figures_say_it_on_their_axes():
    doc = {"findings": [{"kind": "local_start_queue", "max_s": 20.2}]}
    assert _queue_note(doc, "first requests are later by that wait") == (
        "\nthis machine queued environment starts up to 20.2 s: first requests are later by that wait, not Lambda's"
    )
    assert _queue_note({"findings": [{"kind": "wave"}]}, "x") == ""
    assert _queue_note({}, "x") == ""
