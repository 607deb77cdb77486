"""The first frame before Textual (tui/screen/splash.py): what it draws, and that a start that fails
before the app takes the screen over gives the terminal back."""

import io
import re

from tui.screen.splash import ENTER, LEAVE, frame, splash

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self):
        return True

    def fileno(self):
        raise OSError("not a real terminal: the width falls back to 80")


def plain(text: str) -> list[str]:
    return ANSI.sub("", text).split("\r\n")


def test_the_frame_is_the_header_the_app_draws_while_starting_cut_to_the_width():
    lines = plain(frame("closed loop: 10 concurrent", "LOCAL lambdascope-probe", "starting the local Lambda…", 200))
    assert lines == [
        " lambdascope   │  closed loop: 10 concurrent  │  LOCAL lambdascope-probe",
        " load generator: starting…",
        " starting the local Lambda…",
        " logs: starting…",
    ]
    assert all(len(line) <= 39 for line in plain(frame("closed loop: 10 concurrent", "LOCAL x", "starting…", 40)))


def test_the_screen_is_left_only_when_the_app_never_took_it_over(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    failed = Terminal()
    try:
        with splash("closed loop: 10 concurrent", "LOCAL x", "starting…", failed):
            raise RuntimeError("the app could not start")
    except RuntimeError:
        pass
    assert failed.getvalue().startswith(ENTER) and failed.getvalue().endswith(LEAVE)

    taken = Terminal()
    with splash("closed loop: 10 concurrent", "LOCAL x", "starting…", taken) as shown:
        shown.taken()  # Textual runs: it leaves the alternate screen itself
    assert taken.getvalue().startswith(ENTER) and LEAVE not in taken.getvalue()


def test_nothing_is_drawn_where_there_is_no_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    out = Terminal()
    with splash("x", "y", "z", out):
        pass
    assert out.getvalue() == ""
    piped = io.StringIO()  # not a tty
    with splash("x", "y", "z", piped):
        pass
    assert piped.getvalue() == ""
