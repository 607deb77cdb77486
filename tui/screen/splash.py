"""The monitor's first frame, drawn before Textual is imported.

Importing Textual and building the app take ~0.5 s on a 2-core machine; the header's first line
and a "starting" line can be on screen ~0.2 s after `lambdascope` starts. Drawn in the terminal's
alternate screen, where Textual draws too, so its first frame simply replaces this one and the
terminal comes back as it was when the app exits. Plain escape sequences only: this module must
import nothing heavy (tests/bench/bench_startup.py measures the whole start).
"""

import os
import sys
from contextlib import contextmanager

ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"  # alternate screen, cursor hidden, home, clear
LEAVE = "\x1b[?25h\x1b[?1049l"
BOLD_REVERSE, BOLD, DIM, RESET = "\x1b[1;7m", "\x1b[1m", "\x1b[2m", "\x1b[0m"


def frame(load: str, target: str, status: str, width: int) -> str:
    """The header as the app draws it while the session starts (tui/screen/widgets/header.py): name,
    load and target; the load generator and the logs starting; `status` between them. Cut to
    `width` columns."""
    cut = max(width - 1, 10)
    first = f" lambdascope   │  {load}  │  {target}"[:cut]
    name, rest = first[:13], first[13:]
    lines = [" load generator: starting…", f" {status}", " logs: starting…"]
    body = "".join(f"\r\n{DIM}{line[:cut]}{RESET}" for line in lines)
    return f"{BOLD_REVERSE}{name}{RESET}{BOLD}{rest}{RESET}{body}"


def usable(stream) -> bool:
    """Only on a real terminal that understands escape sequences."""
    try:
        return stream.isatty() and os.environ.get("TERM", "dumb") not in ("", "dumb")
    except (AttributeError, ValueError):
        return False


@contextmanager
def splash(load: str, target: str, status: str, stream=None):
    """Draw the frame now; on the way out leave the alternate screen only if nothing took it over
    (`shown.taken()`, called once Textual runs: it leaves the screen itself when it exits)."""
    stream = stream or sys.stdout
    shown = _Shown(usable(stream))
    if shown.drawn:
        try:
            width = os.get_terminal_size(stream.fileno()).columns
        except OSError:
            width = 80
        stream.write(ENTER + frame(load, target, status, width))
        stream.flush()
    try:
        yield shown
    finally:
        if shown.drawn and not shown.taken_over:
            stream.write(LEAVE)
            stream.flush()


class _Shown:
    def __init__(self, drawn: bool):
        self.drawn = drawn
        self.taken_over = False

    def taken(self) -> None:
        self.taken_over = True
