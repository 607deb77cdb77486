"""The table and the timeline at scale: keyed rows, changed cells only for what is on screen,
lanes row-aligned with the table through scrolling and sorting."""

from tests.tui.fakes import SIZE, T0, Clock, Traffic, make_app, stream, until


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
        app.table.scroll_to(y=70, animate=False)
        await until(pilot, lambda: int(app.table.scroll_y) == 70)
        await pilot.pause()
        assert app.table.get_cell(far, "inv").plain == "6"
        # The timeline follows the scroll: its first lane is the table's first visible row.
        assert app.timeline.top_row == 70 and app.timeline.lane_index(1) == 70
        assert app.table.order[app.timeline.lane_index(21)] == far


async def test_a_busy_fleet_of_1000_costs_only_the_visible_rows_each_tick(tmp_path):
    clock = Clock(T0 + 5)
    app = make_app(clock=clock, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        traffic = await fill(app, pilot, 1000, clock)
        assert app.table.row_count == 1000
        visible = len(app.table.visible_rows())
        for _ in range(3):
            clock.t += 1
            app.fleet.apply_outcomes([traffic.invoke(i, clock.t - 0.5)[0] for i in range(1000)], clock())
            before = app.table.updates
            app.refresh_view()
            # inv and last seen changed on every row; only the visible ones are redrawn.
            assert app.table.updates - before <= 3 * visible
        await pilot.press("o")  # by invocations: all equal, so the order stays by first request
        assert app.table.order == [stream(i) for i in range(1000)]


async def test_a_redraw_renders_only_the_cells_that_changed(tmp_path):
    """DataTable alone would render every cell on screen again after any update_cell."""
    clock = Clock(T0 + 5)
    app = make_app(clock=clock, tmp_path=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        traffic = await fill(app, pilot, 200, clock)
        app.stop_redraw()
        await pilot.pause()
        # The first screen: every cell drawn once (the header row takes one line of the height).
        assert app.table.renders >= (len(app.table.visible_rows()) - 1) * len(app.table.shown_columns)
        app.fleet.apply_outcomes([traffic.invoke(3, T0 + 0.5)[0]], clock())  # one row: inv 2, its last
        before_updates, before = app.table.updates, app.table.renders
        app.refresh_view()
        await pilot.pause()
        changed = app.table.updates - before_updates
        assert changed >= 1 and app.table.get_cell(stream(3), "inv").plain == "2"
        assert app.table.renders - before == changed  # those cells, and nothing else


async def test_lanes_show_density_host_colour_the_cold_start_and_follow_the_view(tmp_path):
    clock = Clock(T0 + 9.5)
    app = make_app(clock=clock, tmp_path=tmp_path)
    traffic = Traffic()
    async with app.run_test(size=SIZE) as pilot:
        busy = [traffic.invoke(0, T0 + 7 + k / 130)[0] for k in range(260)]  # 130/s at T0+7 and T0+8
        quiet = [traffic.invoke(1, T0 + 5)[0]]
        app.fleet.apply_outcomes(busy + quiet, clock())
        app.refresh_view()
        await pilot.pause()
        width = app.timeline.size.width
        f = app.timeline.frame
        # The whole run (the default): T0+5 … T0+8, one bucket a column; the bucket of now
        # (T0+9, still filling) is left out.
        assert (f.mode, f.per, f.columns) == ("whole run", 1, 4)
        # Rows by first invocation: container 1 (T0+5) above container 0 (T0+7).
        lane0, lane1 = lane_text(app, 2), lane_text(app, 1)
        assert len(lane0) == width and lane0[:4] == "  ◆█" and lane0[4:].strip() == ""
        assert lane1[:4] == "◆✕  "  # one invocation, then quiet while container 0 served: retired
        segs0 = list(app.timeline.render_line(2))
        segs1 = list(app.timeline.render_line(1))
        colour = lambda segs: {s.style.color.name for s in segs if s.text.strip()}  # noqa: E731
        assert colour(segs0) != colour(segs1)  # host-a and host-b
        assert lane_text(app, 0).startswith("+0s")
        await pilot.press("l")  # live: the right edge is the last full bucket
        f = app.timeline.frame
        assert (f.mode, f.columns) == ("live", width)
        lane0, lane1 = lane_text(app, 2), lane_text(app, 1)
        assert lane0[-2:] == "◆█" and lane1[width - 4] == "◆"
        assert lane_text(app, 0).rstrip().endswith("now")
        clock.t += 1  # one bucket later, the lanes scroll left by one column
        app.refresh_view()
        assert lane_text(app, 1)[width - 5] == "◆"
