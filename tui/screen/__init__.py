"""The Textual monitor: the app, its widgets, the help screen, the palette of keys, the splash.

Imports `tui.core`, `tui.aws` and `tui.output`; never the commands.
"""
