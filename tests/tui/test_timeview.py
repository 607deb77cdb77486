"""Which stretch of the run the timeline shows, at what zoom (pure: no screen)."""

import pytest

from tui.screen.widgets.timeview import (
    FIT,
    LIVE,
    SCROLLED,
    TimeView,
    axis_text,
    describe,
    fmt_since,
    fmt_span,
    frame,
    scroll,
    zoom,
)

T = 1_000.0  # run start, epoch s; bucket 0 at origin 990


def fr(view, width=40, now=T + 20.05, bucket_s=0.1, start=T):
    return frame(view, width, origin=990.0, bucket_s=bucket_s, run_start=start, now=now)


def test_whole_run_fits_and_leaves_the_filling_bucket_out():
    f = fr(TimeView())
    # 20 s of 0.1 s buckets in 40 columns: 5 buckets (0.5 s) a column; bucket of now excluded.
    assert (f.mode, f.per, f.col_s) == (FIT, 5, 0.5)
    assert f.first == 100 and f.last_complete == int(30.05 / 0.1) - 1
    assert f.columns == 40 and f.column_of(T) == 0 and f.column_of(T + 19.9) == 39
    assert f.column_of(T - 1) is None
    short = fr(TimeView(), now=T + 1.05)  # a young run: finest buckets, fewer columns than the width
    assert short.per == 1 and short.columns == 10 and not short.partial_last()


def test_live_follows_now_with_columns_aligned_to_the_zoom():
    f = fr(TimeView(LIVE, 1.0))
    assert f.per == 10 and f.columns == 40
    assert f.column_of(T + 19.0) == 39  # the last full second
    later = fr(TimeView(LIVE, 1.0), now=T + 20.55)  # half a second later: same columns
    assert later.first == f.first
    assert fr(TimeView(LIVE, 1.0), now=T + 21.05).first == f.first + 10


def test_zoom_steps_from_the_finest_bucket_to_minutes():
    f = fr(TimeView())
    v = zoom(TimeView(), f, +1, bucket_s=0.1)
    assert (v.mode, v.col_s) == (LIVE, 0.2)  # from the whole run, live at the next finer step
    v = zoom(v, fr(v), +1, bucket_s=0.1)
    assert v.col_s == 0.1
    assert zoom(v, fr(v), +1, bucket_s=0.1).col_s == 0.1  # not finer than a bucket
    for _ in range(20):
        v = zoom(v, fr(v), -1, bucket_s=0.1)
    assert v.col_s == 600
    assert zoom(TimeView(LIVE, 1.0), fr(TimeView(LIVE, 1.0)), +1, bucket_s=1.0).col_s == 1.0  # 1 s buckets


def test_scroll_back_and_forward_returns_to_live():
    live = TimeView(LIVE, 0.1)
    f = fr(live)
    back = scroll(live, f, -20, now=T + 20.05)
    assert back.mode == SCROLLED and back.start_t == pytest.approx(f.column_start(0) - 2.0)
    g = fr(back)
    assert g.first == f.first - 20
    assert scroll(back, g, +20, now=T + 20.05).mode == LIVE  # back at the present: follow it
    far = fr(TimeView(SCROLLED, 0.1, T - 100))
    assert far.column_of(T) is None


def test_axis_says_time_since_start_or_age_and_the_legend_the_zoom():
    f = fr(TimeView())
    text = axis_text(f, 40, run_start=T, now=T + 20.05)
    assert len(text) == 40 and text.startswith("+0s") and text[10:14] == "+5s " and text[20:24] == "+10s"
    live = fr(TimeView(LIVE, 1.0))
    text = axis_text(live, 40, run_start=T, now=T + 20.05)
    assert text.rstrip().endswith("now") and "-11s" in text
    assert describe(f) == "500ms/col, whole run" and describe(live) == "1s/col, live"
    assert [fmt_span(x) for x in (0.1, 1.5, 30, 120, 5400)] == ["100ms", "1.5s", "30s", "2m", "1h30m"]
    assert [fmt_since(x) for x in (0, 4.5, 42, 150, 3720)] == ["+0s", "+4.5s", "+42s", "+2:30", "+1h02"]
