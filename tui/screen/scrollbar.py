"""Scroll bars whose thumb is drawn in whole cells.

Textual draws a thumb's two ends with the eighth blocks (▁ ▂ ▃ … ▇) for sub-cell precision.
Those are the timeline's own glyphs (one ▃ is four invocations), and the container table's
scroll bar stands right beside the lanes: a thumb end read as a lane's data (UX walkthrough
#33; still so at 80x24 with 100 rows, where the whole thumb was one ▃). A thumb of whole cells,
in the bar's colour, reads as what it is. Textual's documented way to draw bars differently is
its `ScrollBar.renderer`, which every scroll bar of the app uses.
"""

from textual.scrollbar import ScrollBar, ScrollBarRender


class WholeCellScrollBarRender(ScrollBarRender):
    # A blank end glyph: Textual then leaves the partial cell as the bar's background.
    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


def use_whole_cell_scroll_bars() -> None:
    ScrollBar.renderer = WholeCellScrollBarRender
