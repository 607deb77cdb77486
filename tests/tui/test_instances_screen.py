"""Pilot: Managed Instances on screen. The capacity provider's system log, read by the same
source as the function's log, puts each host's AZ in the legend and the table, and marks its
instance's launch (↑) and termination (↓) on the lanes of the environments it hosts."""

import json

from tests.tui.fakes import T0, FakeSource, make_app, screen_text, until
from tui.core.events import LogEvent
from tui.screen.widgets.lanes import LAUNCH_MARK, TERMINATE_MARK
from tui.screen.widgets.legend import HostLegend

CP_STREAM = "lambdascope-local/managed-instances"
INSTANCES = [  # (instance id, hostname, AZ)
    ("i-0aaaaaaaaaaaaaaa1", "ip-10-0-1-27.ec2.internal", "us-east-1a"),
    ("i-0bbbbbbbbbbbbbbb2", "ip-10-0-2-143.ec2.internal", "us-east-1b"),
]


def env_stream(i: int) -> str:
    return f"2026/12/01/[1]{i:08x}" + "0" * 24


def system(t: float, verb: str, i: int) -> LogEvent:
    iid, _, zone = INSTANCES[i]
    record = {
        "timestamp": f"{_iso(t)}",
        "level": "INFO",
        "message": f"{verb} m7i.xlarge instance {iid} in {zone}",
        "metadata": {"instanceId": iid, "availabilityZones": [zone], "instanceTypes": ["m7i.xlarge"]},
    }
    return LogEvent(CP_STREAM, int(t * 1000), json.dumps(record))


def _iso(t: float) -> str:
    from tui.core.snapshot import iso

    return iso(t)


def invocations(i: int, start: float, n: int) -> list[LogEvent]:
    """`n` requests on environment `i` (on instance `i`), one a second, REPORT-only as LMI logs."""
    iid, host, _ = INSTANCES[i]
    s = env_stream(i)
    out = [LogEvent(s, int(start * 1000) - 50, json.dumps({"type": "platform.initStart", "record": {
        "initializationType": "lambda-managed-instances", "phase": "init"}}))]  # fmt: skip
    for k in range(n):
        ms = int((start + k) * 1000)
        rid = f"r-{i}-{k}"
        probe = {
            "lambdascope": 1,
            "container_id": s,
            "request_id": rid,
            "cold": False,
            "hostname": host,
            "cpu_model": "Intel(R) Xeon(R) Platinum 8488C",
            "instance_id": iid,
            "instance_type": "m7i.xlarge",
            "init_type": "lambda-managed-instances",
        }
        out += [
            LogEvent(s, ms, json.dumps({"type": "platform.start", "record": {"requestId": rid}})),
            LogEvent(s, ms + 1, json.dumps(probe)),
            LogEvent(
                s,
                ms + 5,
                json.dumps({"type": "platform.report", "record": {"requestId": rid, "metrics": {"durationMs": 5.0}}}),
            ),  # fmt: skip
        ]
    return out


def lane_text(app, cid: str) -> str:
    lanes = app.timeline
    row = app.table.order.index(cid)
    return "".join(seg.text for seg in lanes.render_line(row - lanes.top_row + 1))


def fed_app():
    source = FakeSource("poll")
    app = make_app(sources=[source])
    app.clock.t = T0 + 30
    return app, source


def events():
    out = [system(T0 - 0.5, "Launching", 0), system(T0 - 0.4, "Successfully launched", 0)]
    out += [system(T0 - 0.3, "Successfully launched", 1)]
    out += invocations(0, T0, 20) + invocations(1, T0 + 1, 20)
    out += [system(T0 + 24, "Terminating", 0), system(T0 + 25, "Successfully terminated", 0)]
    return out


async def test_marks_and_zones_show_at_150_columns():
    app, source = fed_app()
    async with app.run_test(size=(150, 40)) as pilot:
        source.feed(events())
        await until(pilot, lambda: app.fleet.counters.invocations == 40 and len(app.fleet.instances) == 2)
        app.refresh_view()
        await pilot.pause()
        a, b = env_stream(0), env_stream(1)
        lane_a, lane_b = lane_text(app, a), lane_text(app, b)
        assert LAUNCH_MARK in lane_a and TERMINATE_MARK in lane_a  # its instance came and went
        assert lane_a.index(LAUNCH_MARK) < lane_a.index(TERMINATE_MARK)
        assert LAUNCH_MARK in lane_b and TERMINATE_MARK not in lane_b  # still running
        legend = app.query_one(HostLegend)._last_text.plain
        assert "ip-10-0-1-27 us-east-1a 1" in legend and "ip-10-0-2-143 us-east-1b 1" in legend
        assert "↑ launched ↓ terminated" in legend
        assert "az" in app.table.shown_columns
        text = screen_text(app)
        assert "us-east-1a" in text.split("hosts by")[0]  # in the table, beside the host


async def test_at_80_columns_the_legend_keeps_the_zone_and_the_key():
    app, source = fed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        source.feed(events())
        await until(pilot, lambda: app.fleet.counters.invocations == 40 and len(app.fleet.instances) == 2)
        app.refresh_view()
        await pilot.pause()
        assert "az" not in app.table.shown_columns  # no room: the legend says it
        text = screen_text(app)
        assert "us-east-1a" in text and "↑ launched ↓ terminated" in text
        assert LAUNCH_MARK in lane_text(app, env_stream(0))


async def test_no_system_log_no_marks_and_no_zone_column():
    app, source = fed_app()
    async with app.run_test(size=(150, 40)) as pilot:
        source.feed(invocations(0, T0, 5))
        await until(pilot, lambda: app.fleet.counters.invocations == 5)
        app.refresh_view()
        await pilot.pause()
        assert LAUNCH_MARK not in lane_text(app, env_stream(0))
        assert "launched" not in app.query_one(HostLegend)._last_text.plain
        assert "az" not in app.table.shown_columns


async def test_g_offers_the_ec2_instance_as_the_host_key_where_the_probe_named_one():
    app, source = fed_app()
    async with app.run_test(size=(150, 40)) as pilot:
        source.feed(events())
        await until(pilot, lambda: app.fleet.counters.invocations == 40)
        app.refresh_view()
        for _ in range(3):  # hostname → boot id → CPU model → EC2 instance
            await pilot.press("g")
        await pilot.pause()
        assert app.host_key == "instance_id"
        legend = app.query_one(HostLegend)._last_text.plain
        assert "hosts by EC2 instance (2)" in legend and "i-0aaaaaaaaaaaaaaa1 us-east-1a 1" in legend
        await pilot.press("g")
        assert app.host_key == "hostname"  # and round again


async def test_g_skips_the_instance_key_where_no_environment_named_one():
    app, source = fed_app()
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("g")
        assert app.host_key == "hostname"
