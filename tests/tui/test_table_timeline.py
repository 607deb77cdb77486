"""The table and the timeline at scale: keyed rows, changed cells only for what is on screen,
lanes row-aligned with the table through scrolling and sorting."""

from tests.tui.fakes import SIZE, Clock, T0, Traffic, make_app, stream, until


def lane_text(app, y: int) -> str:
    return "".join(seg.text for seg in app.timeline.render_line(y))


async def fill(app, pilot, n: int, clock):
    traffic = Traffic()
    outcomes = [traffic.invoke(i, T0 + i * 0.001)[0] for i in range(n)]
    app.fleet.apply_outcomes(outcomes, clock())
    app.refresh_view()
    await pilot.pause()
    return traffic


async def test_rows_off_screen_catch_up_when_scrolled_into_view(tmp_path):
    clock = Clock(T0 + 5)
    app = make_app(clock=clock, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        traffic = await fill(app, pilot, 100, clock)
        assert app.table.row_count == 100 and len(app.table.visible_rows()) < 40
        far = stream(90)
        app.fleet.apply_outcomes([traffic.invoke(90, T0 + 2 + k)[0] for k in range(5)], clock())
        updates = app.table.updates
        app.refresh_view()
        assert app.table.updates == updates  # row 90 is off screen: nothing to draw yet
        app.table.scroll_to(y=60, animate=False)
        await until(pilot, lambda: int(app.table.scroll_y) == 60)
        await pilot.pause()
        assert app.table.get_cell(far, "inv").plain == "6"
        # The timeline follows the scroll: its first lane is the table's first visible row.
        assert app.timeline.top_row == 60 and app.timeline.lane_index(1) == 60
        assert app.table.order[app.timeline.lane_index(31)] == far


async def test_a_busy_fleet_of_1000_costs_only_the_visible_rows_each_tick(tmp_path):
    clock = Clock(T0 + 5)
    app = make_app(clock=clock, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        traffic = await fill(app, pilot, 1000, clock)
        assert app.table.row_count == 1000
        visible = len(app.table.visible_rows())
        for tick in range(3):
            clock.t += 1
            app.fleet.apply_outcomes([traffic.invoke(i, clock.t - 0.5)[0] for i in range(1000)], clock())
            before = app.table.updates
            app.refresh_view()
            # inv and last seen changed on every row; only the visible ones are redrawn.
            assert app.table.updates - before <= 3 * visible
        await pilot.press("o")  # by invocations: all equal, so the order stays by first request
        assert app.table.order == [stream(i) for i in range(1000)]


async def test_lanes_show_density_host_colour_and_the_cold_start(tmp_path):
    clock = Clock(T0 + 9.5)
    app = make_app(clock=clock, tmp_path=tmp_path)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        busy = [traffic.invoke(0, T0 + 8 + k / 200)[0] for k in range(130)]  # 130 in one second
        quiet = [traffic.invoke(1, T0 + 5)[0]]
        app.fleet.apply_outcomes(busy + quiet, clock())
        app.refresh_view()
        await pilot.pause()
        width = app.timeline.size.width
        lane0, lane1 = lane_text(app, 1), lane_text(app, 2)
        assert len(lane0) == width and lane0.rstrip().endswith("◆") and lane0[-1] == " "
        # Container 0: its cold start is the first invocation, in the bucket of T0+8 (col -2);
        # container 1: one invocation 4 s before the right edge, which is its cold start too.
        assert lane1[width - 5] == "◆" and lane1.strip() == "◆"
        segs0 = list(app.timeline.render_line(1))
        segs1 = list(app.timeline.render_line(2))
        colour = lambda segs: {s.style.color.name for s in segs if s.text.strip()}  # noqa: E731
        assert colour(segs0) != colour(segs1)  # host-a and host-b
        # The axis ends at now, level with the table's header.
        assert lane_text(app, 0).endswith("now")
        clock.t += 1  # one bucket later, the lanes scroll left by one column
        app.refresh_view()
        assert lane_text(app, 2)[width - 6] == "◆"
