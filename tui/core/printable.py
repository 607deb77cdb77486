"""Text from outside (log lines, response bodies, error messages) made safe for a terminal.

A log line may carry terminal escape sequences (ESC [ ... m, OSC titles, a bell, a carriage
return that overwrites the line): printed raw, they recolour, retitle or scramble the user's
terminal. Every C0 control but tab and newline, DEL and every C1 control is shown as a visible
escape (`\\x1b`) instead. Pure: no imports.
"""

_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)] if c not in (0x09, 0x0A)}


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` with control characters escaped (newlines kept unless `newlines=False`)."""
    if newlines:
        return text.translate(_ESCAPES)
    return text.translate({**_ESCAPES, 0x0A: "\\n"})
